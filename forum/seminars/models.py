"""Seminars, their sessions, registrations (with workshop choices) and thread ↔ session links.

Seats are counters on the seminar and on each workshop (``seats_taken``), moved by a
conditional ``UPDATE … WHERE seats_taken < capacity`` in the same transaction as the
registration row, so that two registrations for the last seat can never both win.
All datetimes are naive UTC; pages show them in Europe/Paris.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin, utcnow
from forum.discussions.models import Theme, Thread
from forum.extensions import db


class SeminarStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    SeminarStatus.DRAFT: _l("brouillon"),
    SeminarStatus.PUBLISHED: _l("publié"),
    SeminarStatus.CANCELLED: _l("annulé"),
}


class SessionKind(StrEnum):
    PLENARY = "plenary"
    WORKSHOP = "workshop"
    ROUND_TABLE = "round_table"


KIND_LABELS = {
    SessionKind.PLENARY: _l("plénière"),
    SessionKind.WORKSHOP: _l("atelier"),
    SessionKind.ROUND_TABLE: _l("table ronde"),
}


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


REGISTRATION_LABELS = {
    RegistrationStatus.CONFIRMED: _l("confirmée"),
    RegistrationStatus.WAITING: _l("liste d'attente"),
    RegistrationStatus.CANCELLED: _l("annulée"),
}


class LinkKind(StrEnum):
    PREPARATION = "preparation"
    FOLLOW_UP = "follow_up"


LINK_LABELS = {
    LinkKind.PREPARATION: _l("préparation"),
    LinkKind.FOLLOW_UP: _l("suite"),
}


class Seminar(TimestampMixin, db.Model):
    __tablename__ = "seminars"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status"),
        CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats"),
        Index("ix_seminars_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    description_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    render_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    venue: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: None: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    registration_opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=SeminarStatus.DRAFT.value
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sessions: Mapped[list[Session]] = relationship(
        back_populates="seminar", order_by="(Session.starts_at, Session.id)"
    )

    @property
    def is_published(self) -> bool:
        return self.status == SeminarStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status == SeminarStatus.CANCELLED

    @property
    def is_past(self) -> bool:
        return self.ends_at <= utcnow()

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[SeminarStatus(self.status)])

    def __repr__(self) -> str:
        return f"<Seminar {self.id} {self.title!r}>"


class Session(TimestampMixin, db.Model):
    """A session of a seminar: plenary, workshop or round table."""

    __tablename__ = "seminar_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('plenary', 'workshop', 'round_table')", name="kind"),
        CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats"),
        Index("ix_seminar_sessions_seminar_starts_at", "seminar_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminars.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default=SessionKind.PLENARY)
    starts_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    room: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    #: One speaker a line: "Name, Organisation".
    speakers: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    minutes_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    minutes_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    minutes_published_at: Mapped[datetime | None] = mapped_column(DateTime)
    render_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    seminar: Mapped[Seminar] = relationship(back_populates="sessions")
    theme: Mapped[Theme | None] = relationship()

    @property
    def speaker_list(self) -> list[tuple[str, str]]:
        """``[(name, organisation)]`` from the one-per-line text."""
        result = []
        for line in self.speakers.splitlines():
            name, _, organisation = line.partition(",")
            if name.strip():
                result.append((name.strip(), organisation.strip()))
        return result

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[SessionKind(self.kind)])

    @property
    def is_workshop(self) -> bool:
        return self.kind == SessionKind.WORKSHOP

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= utcnow()

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.title!r}>"


class Registration(TimestampMixin, db.Model):
    """One member's registration to one seminar (unique), with its place in the queue."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("seminar_id", "user_id", name="uq_registrations_seminar_user"),
        CheckConstraint("status IN ('confirmed', 'waiting', 'cancelled')", name="status"),
        Index("ix_registrations_queue", "seminar_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminars.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    #: When the member (re)joined: the waiting list is served in this order.
    queued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: None: not marked yet.
    attended: Mapped[bool | None] = mapped_column(Boolean)

    seminar: Mapped[Seminar] = relationship()
    user: Mapped[User] = relationship()
    choices: Mapped[list[WorkshopChoice]] = relationship(
        back_populates="registration", order_by="WorkshopChoice.id"
    )

    @property
    def status_label(self) -> str:
        return str(REGISTRATION_LABELS[RegistrationStatus(self.status)])


class WorkshopChoice(db.Model):
    """A workshop chosen with a registration: confirmed, or waiting for a seat."""

    __tablename__ = "workshop_choices"
    __table_args__ = (
        UniqueConstraint("registration_id", "session_id", name="uq_workshop_choices_reg_session"),
        CheckConstraint("status IN ('confirmed', 'waiting', 'cancelled')", name="status"),
        Index("ix_workshop_choices_queue", "session_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), nullable=False)
    session_id: Mapped[int] = mapped_column(ForeignKey("seminar_sessions.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    queued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="choices")
    session: Mapped[Session] = relationship()


class SessionThread(TimestampMixin, db.Model):
    """A thread linked to a session, to prepare it or to continue it."""

    __tablename__ = "session_threads"
    __table_args__ = (
        UniqueConstraint("session_id", "thread_id", name="uq_session_threads_session_thread"),
        CheckConstraint("kind IN ('preparation', 'follow_up')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("seminar_sessions.id"), nullable=False)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)

    session: Mapped[Session] = relationship()
    thread: Mapped[Thread] = relationship()

    @property
    def kind_label(self) -> str:
        return str(LINK_LABELS[LinkKind(self.kind)])
