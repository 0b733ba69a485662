"""Accounts: registration, login, profiles, settings, roles."""
