"""Data exports: one row per "Télécharger mes données" request, the ZIP on disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import TimestampMixin
from forum.extensions import db


class ExportStatus:
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


class DataExport(TimestampMixin, db.Model):
    """An export of one member's data: built in the background, downloadable 7 days."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=ExportStatus.PENDING)
    #: Random, unguessable: the file name of the ZIP and the end of its URL.
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: Files written so far and files to write, for the progress shown on the page.
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
