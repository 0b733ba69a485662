"""What the outbox tests read: the rows a change left, and the moment its lease is over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

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
    then the reactions and the reaction notifications; on PostgreSQL, the other sessions
    in the database and their locks. What a failed count of jobs run shows, to tell a
    job that was never written from one that ran or was held elsewhere."""
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
    if db.engine.dialect.name == "postgresql":  # who else is in this database, holding what
        lines += [
            f"session {row.pid} {row.state} xact={row.xact_start} {row.query[:120]!r}"
            for row in db.session.execute(
                text(
                    "SELECT pid, state, xact_start, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ]
        lines += [
            f"lock {row.pid} {row.locktype} {row.relation} {row.mode} granted={row.granted}"
            for row in db.session.execute(
                text(
                    "SELECT pid, locktype, relation::regclass::text AS relation, mode, granted "
                    "FROM pg_locks WHERE database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND pid <> pg_backend_pid()"
                )
            )
        ]
    return "\n".join(lines)
