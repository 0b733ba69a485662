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


def jobs_left() -> str:
    """Every job, one per line: id, kind, payload, done or not, claimed or not, attempts;
    then the reactions and the reaction notifications. What a failed count of jobs run
    shows, to tell a job that was never written from one that ran elsewhere."""
    from forum.debate.models import Reaction

    lines = [
        f"job {row.id} {row.kind} {row.payload} done={row.done_at is not None}"
        f" claimed={row.claimed_until is not None} attempts={row.attempts}"
        for row in db.session.execute(
            select(
                Job.id, Job.kind, Job.payload, Job.done_at, Job.claimed_until, Job.attempts
            ).order_by(Job.id)
        )
    ]
    lines += [
        f"reaction post={row.post_id} user={row.user_id} {row.kind} at {row.created_at}"
        for row in db.session.execute(select(Reaction)).scalars()
    ]
    lines += [
        f"notification {row.id} user={row.user_id} post={row.post_id} at {row.created_at}"
        for row in db.session.execute(
            select(Notification).where(Notification.kind == "reaction")
        ).scalars()
    ]
    return "\n".join(lines)
