"""The real SMTP server of the notification tests, for conversations too."""

from tests.notifications.conftest import mail_app, mail_client, smtp_server  # noqa: F401
