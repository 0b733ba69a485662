"""Following, notifications, unread tracking and e-mail."""
