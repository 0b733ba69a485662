"""A job: work written in the transaction of the change that causes it, run later by a worker.

A worker claims a job by writing a random ``claim_token`` and a lease
(``claimed_until``) in one short transaction; nobody else takes it before the
lease ends. ``done_at`` is written in the same transaction as the job's own
writes, with a check that the claim is still ours, so a job's database effects
happen once. ``claimed_until`` also serves as "not before" after a failure (the
token is then cleared): the job is tried again after a growing pause.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import TimestampMixin, utcnow
from forum.extensions import db

DUE = text("done_at IS NULL")


class Job(TimestampMixin, db.Model):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "run_at", "id", sqlite_where=DUE, postgresql_where=DUE),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Which handler runs it (:func:`forum.jobs.services.handler`).
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    #: At most one job per key, ever: periodic work ("digests:2026-12-03") is enqueued
    #: by every worker and kept once.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    run_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
