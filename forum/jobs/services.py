"""Jobs: :func:`enqueue` in the caller's transaction, handlers by kind, claiming and running.

A feature that wants work done outside the request enqueues a job in the same
transaction as the change that causes it (the transactional outbox: both commit or
neither does) and registers a handler for its kind::

    from forum.jobs.services import enqueue, handler

    @handler("data.export")
    def export(payload: dict) -> None: ...

    enqueue("data.export", {"user_id": user.id})  # then the service commits

The worker (:mod:`forum.jobs.worker`) claims one job at a time: a random token and
a lease (``FORUM_WORKER_LEASE``) written in one short transaction, with PostgreSQL's
``FOR UPDATE SKIP LOCKED`` (SQLite: under its write lock, released by the commit).
The handler runs outside that transaction, reading first (:func:`forum.db.reads_first`):
its writes and the job's ``done_at`` commit together, and only while the claim is
still ours, so a job's database effects happen once. A handler that talks to the
network commits nothing before it, and must be idempotent: a worker that dies after
the call and before the commit leaves the job to be run again after the lease.
A failed job is tried again after 1, 2, 4 … minutes, :data:`MAX_ATTEMPTS` times.

Modules holding handlers are listed in :data:`HANDLER_MODULES` (imported by the worker).
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime, bindparam, insert, select, update

from forum.db import after_commit, claimable, reads_first, upsert, utcnow, write_intent
from forum.extensions import db
from forum.jobs.models import Job

#: A job failing this many times stays in the table, not retried (its error kept).
MAX_ATTEMPTS = 5

#: Modules whose import registers handlers (other features append theirs).
HANDLER_MODULES = [
    "forum.jobs.services",
    "forum.notifications.digests",
    "forum.notifications.fanout",
    "forum.privacy.export",
    "forum.debate.services",
    "forum.directory.notify",
    "forum.notifications.messages",
]

#: kind -> handler(payload)
HANDLERS: dict[str, Callable[[dict], None]] = {}

JOBS = Job.__table__
PARIS = ZoneInfo("Europe/Paris")


def handler(kind: str):
    """Register the function run for jobs of ``kind``; it gets the job's payload (a dict)."""

    def register(fn: Callable[[dict], None]) -> Callable[[dict], None]:
        HANDLERS[kind] = fn
        return fn

    return register


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def enqueue(
    kind: str,
    payload: dict | None = None,
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> int | None:
    """Add a job to the current transaction (the caller commits); returns its id.

    ``run_at`` (UTC): not before then. ``key``: at most one job with that key ever
    exists; enqueuing it again does nothing and returns None.
    """
    values = {
        "kind": kind,
        "payload": payload or {},
        "key": key,
        "run_at": run_at or utcnow(),
        "attempts": 0,
        "last_error": "",
        "created_at": utcnow(),
    }
    if key is None:
        return db.session.execute(insert(Job).values(values).returning(Job.id)).scalar_one()
    stmt = upsert(db.session, Job).values(values).on_conflict_do_nothing(index_elements=["key"])
    return db.session.execute(stmt.returning(Job.id)).scalar()


_CLAIM_DUE = (
    update(JOBS)
    .where(
        JOBS.c.id.in_(
            claimable(
                select(JOBS.c.id)
                .where(
                    JOBS.c.done_at.is_(None),
                    JOBS.c.run_at <= bindparam("now", type_=DateTime),
                    JOBS.c.attempts < MAX_ATTEMPTS,
                    (JOBS.c.claimed_until.is_(None))
                    | (JOBS.c.claimed_until <= bindparam("now", type_=DateTime)),
                )
                .order_by(JOBS.c.run_at, JOBS.c.id)
                .limit(1),
                "due_job",
            )
        )
    )
    .values(
        claim_token=bindparam("token"),
        claimed_until=bindparam("until", type_=DateTime),
        attempts=JOBS.c.attempts + 1,
    )
    .returning(JOBS.c.id, JOBS.c.kind, JOBS.c.payload, JOBS.c.attempts)
)

_MARK_DONE = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"), JOBS.c.claim_token == bindparam("token"))
    .values(done_at=bindparam("now", type_=DateTime), claim_token=None, last_error="")
)

_RELEASE = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"), JOBS.c.claim_token == bindparam("token"))
    .values(
        claim_token=None,
        claimed_until=bindparam("retry_at", type_=DateTime),
        last_error=bindparam("error"),
    )
)


_COMPLETE = (
    update(JOBS)
    .where(
        JOBS.c.id == bindparam("job_id"),
        JOBS.c.done_at.is_(None),
        JOBS.c.claim_token.is_(None),
    )
    .values(done_at=bindparam("now", type_=DateTime))
)


def complete(job_id: int) -> bool:
    """Mark an unclaimed job done in the current transaction (its work done elsewhere).

    False when a worker claimed it (or it is done): the caller rolls its work back.
    """
    return bool(db.session.execute(_COMPLETE, {"job_id": job_id, "now": utcnow()}).rowcount)


def enqueue_soon(kind: str, payload: dict) -> int:
    """In the caller's transaction: a job that this process runs right after the commit.

    The job commits with the change that causes it (or neither does). Right after the
    commit, :func:`run_now` runs its handler here and completes the job in the same
    transaction as the handler's writes; should it not (the process died, the handler
    failed), a worker runs the job once ``FORUM_WORKER_LEASE`` seconds have passed.
    Either way its effects are written once. Returns the job's id.
    """
    later = utcnow() + timedelta(seconds=current_app.config["FORUM_WORKER_LEASE"])
    job_id = enqueue(kind, payload, run_at=later)
    after_commit(run_now, job_id, kind, payload)
    return job_id


def run_now(job_id: int, kind: str, payload: dict) -> bool:
    """Run a job of :func:`enqueue_soon` after its commit, unless a worker took it. Never raises.

    Reads first, then the handler's writes and the job's completion commit together.
    A handler may return the ids of the mails it queued: with no mail server they are
    written to the log at once (:func:`forum.notifications.mail.deliver_quietly`).
    True when this call did the job.
    """
    from forum.notifications import mail

    try:
        with reads_first():
            mail_ids = HANDLERS[kind](dict(payload)) or []
            if complete(job_id):
                db.session.commit()
            else:  # a worker has it (or had it): its writes, not ours
                db.session.rollback()
                return False
        mail.deliver_quietly(mail_ids)
        return True
    except Exception:
        db.session.rollback()
        current_app.logger.exception(
            "job %s (%s) failed here; the worker will run it", job_id, kind
        )
        return False


def claim_job(now: datetime | None = None):
    """Claim the next due job: (token, row with id, kind, payload, attempts), or None."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    lease = timedelta(seconds=current_app.config["FORUM_WORKER_LEASE"])
    with write_intent():
        row = db.session.execute(
            _CLAIM_DUE, {"now": now, "token": token, "until": now + lease}
        ).first()
        db.session.commit()
    return (token, row) if row is not None else None


def run_job(token: str, job, now: datetime | None = None) -> bool:
    """Run a claimed job; its writes commit with ``done_at``. True when done.

    ``now`` stands for the clock: a failed job waits from then.
    """
    try:
        fn = HANDLERS.get(job.kind)
        if fn is None:
            raise LookupError(f"no handler for jobs of kind {job.kind!r}")
        with reads_first():
            fn(dict(job.payload))
            marked = db.session.execute(
                _MARK_DONE, {"job_id": job.id, "token": token, "now": utcnow()}
            ).rowcount
            if not marked:
                db.session.rollback()
                current_app.logger.warning(
                    "job %s outlived its claim: left to its new owner", job.id
                )
                return False
            db.session.commit()
        return True
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("job %s (%s) failed, try %s", job.id, job.kind, job.attempts)
        delay = timedelta(minutes=min(2 ** max(job.attempts - 1, 0), 60))
        with write_intent():
            db.session.execute(
                _RELEASE,
                {
                    "job_id": job.id,
                    "token": token,
                    "retry_at": (now or utcnow()) + delay,
                    "error": f"{type(exc).__name__}: {exc}"[:500],
                },
            )
            db.session.commit()
        return False


def run_jobs(limit: int, now: datetime | None = None) -> int:
    """Claim and run due jobs one by one, at most ``limit``; returns how many were taken."""
    taken = 0
    while taken < limit:
        claimed = claim_job(now)
        if claimed is None:
            break
        run_job(*claimed, now=now)
        taken += 1
    return taken


def run_pending(now: datetime | None = None, *, force: bool = False) -> dict[str, int]:
    """Do all the work due now, synchronously, until none is left (tests, ``--once``).

    Returns ``{"sent": …, "failed": …, "jobs": …}``. ``now`` stands for the clock (a
    lease or a pause after a failure ends at a time); ``force`` retries mails that wait
    after a failure at once.
    """
    from forum.notifications import mail

    load_handlers()
    totals = {"sent": 0, "failed": 0, "jobs": 0}
    while True:
        jobs = run_jobs(100, now)
        sent, failed = mail.deliver(limit=500, now=now, force=force)
        totals["sent"] += sent
        totals["failed"] += failed
        totals["jobs"] += jobs
        if not (jobs or sent):
            return totals


# -- periodic work ----------------------------------------------------------------------------


def periodic_jobs(now: datetime) -> list[tuple[str, str]]:
    """The (kind, key) of the periodic jobs due at ``now``: keys name their period."""
    local = now.replace(tzinfo=UTC).astimezone(PARIS)
    due = [("housekeeping", f"housekeeping:{now:%Y-%m-%dT%H}")]
    hour = current_app.config["FORUM_DIGEST_HOUR"]
    if 0 <= hour <= 23 and local.hour >= hour:
        due.append(("notifications.digests", f"digests:{local:%Y-%m-%d}"))
    return due


def schedule(now: datetime | None = None, *, known: set[str] | None = None) -> int:
    """Enqueue the periodic jobs due now (each key once, whatever the number of workers).

    ``known``: keys this worker enqueued already (skipped without a query; updated).
    """
    now = now or utcnow()
    wanted = [(kind, key) for kind, key in periodic_jobs(now) if not known or key not in known]
    if not wanted:
        return 0
    with write_intent():
        added = sum(1 for kind, key in wanted if enqueue(kind, key=key) is not None)
        db.session.commit()
    if known is not None:
        known.update(key for _kind, key in wanted)
    return added


@handler("housekeeping")
def housekeeping(_payload: dict) -> None:
    """The hourly chores, committed with the job's completion:

    - the retention periods (:func:`forum.privacy.retention.purge`): sent mails and
      finished jobs, read notifications, bare read positions, expired export files;
    - contact requests unanswered for 30 days expire, their requesters told
      (:func:`forum.directory.contacts.expire`, also ``flask forum expire-contacts``);
    - polls whose closing date has come are closed (:func:`forum.debate.services.
      close_due_polls`; each poll also has its own job at its date).
    """
    from forum.debate import services as debate
    from forum.directory import contacts
    from forum.privacy import retention

    retention.purge()
    contacts.expire(commit=False)
    debate.close_due_polls()
