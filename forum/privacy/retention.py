"""Retention: personal data the forum no longer needs is deleted after a set time.

``purge()`` is what the worker's hourly ``housekeeping`` job and ``flask forum
purge`` run (safe from cron, as often as you like: each step is one DELETE, and
running it twice deletes nothing more). The periods are settings (``FORUM_*_RETENTION_DAYS``), documented on the
``/privacy`` page from the same values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_

from forum.db import utcnow
from forum.extensions import db
from forum.jobs.models import Job
from forum.notifications.models import Level, Notification, OutboxMail, ThreadState
from forum.privacy import export


def cutoff(setting: str, now: datetime | None = None) -> datetime:
    """The moment before which data kept under ``setting`` is deleted."""
    return (now or utcnow()) - timedelta(days=int(current_app.config[setting]))


def purge(now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its period; return the rows deleted, by kind.

    The caller commits: the worker's hourly ``housekeeping`` job (with the job's own
    completion) or ``flask forum purge``.
    """
    now = now or utcnow()
    counts = {
        # Sent mails: their copy in the outbox (address, text) is no longer needed.
        "mails": db.session.execute(
            delete(OutboxMail).where(
                OutboxMail.sent_at.is_not(None),
                OutboxMail.sent_at < cutoff("FORUM_OUTBOX_KEEP_DAYS", now),
            )
        ).rowcount,
        # Notifications read long ago; unread ones stay (they still count in the bell).
        "notifications": db.session.execute(
            delete(Notification).where(
                Notification.read_at.is_not(None),
                Notification.read_at < cutoff("FORUM_NOTIFICATION_RETENTION_DAYS", now),
            )
        ).rowcount,
        # Read positions of threads not followed nor muted: a choice stays, a trace goes.
        "read_positions": db.session.execute(
            delete(ThreadState).where(
                or_(ThreadState.level.is_(None), ThreadState.level == Level.NORMAL.value),
                ThreadState.updated_at < cutoff("FORUM_READ_POSITION_RETENTION_DAYS", now),
            )
        ).rowcount,
        # Finished jobs: their payloads name members (an export's, a post's).
        "jobs": db.session.execute(
            delete(Job).where(Job.done_at < cutoff("FORUM_OUTBOX_KEEP_DAYS", now))
        ).rowcount,
        # Export files past their 7 days.
        "exports": export.purge_expired(now),
    }
    return counts
