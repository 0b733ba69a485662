"""Seminars and their sessions: programme, registration, minutes, calendars."""
