"""What the outbox tests read: the rows a change left, and the moment its lease is over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db
from forum.jobs.models import Job
from forum.notifications.models import Notification, OutboxMail


def counts(app, kind: str) -> tuple[int, int, int]:
    """(jobs of ``kind``, notifications, outbox mails)."""
    with app.app_context():
        found = (
            db.session.execute(select(func.count(Job.id)).where(Job.kind == kind)).scalar(),
            db.session.execute(select(func.count(Notification.id))).scalar(),
            db.session.execute(select(func.count(OutboxMail.id))).scalar(),
        )
        db.session.remove()
    return found


def after_lease(app):
    """A moment when a job claimed now (or left by a dead request) may be taken again."""
    return utcnow() + timedelta(seconds=app.config["FORUM_WORKER_LEASE"] + 1)


def jobs_left() -> list[tuple]:
    """Every job as (id, kind, payload, run_at, done_at, claimed_until, attempts): what a
    failed count of jobs run shows, to tell a job that was never written from one that
    ran elsewhere."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                Job.id,
                Job.kind,
                Job.payload,
                Job.run_at,
                Job.done_at,
                Job.claimed_until,
                Job.attempts,
            ).order_by(Job.id)
        )
    ]
