"""Moderation: reports, review queue, acts on posts and threads, sanctions, the log."""
