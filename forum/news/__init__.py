"""News (actualités): short articles admins publish to spread information."""
