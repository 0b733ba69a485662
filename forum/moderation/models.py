"""Moderation: per-theme moderators, reports, sanctions, private notes, watched words, the log.

The log is append-only: the ORM refuses to update or delete a :class:`LogEntry`, and no
page offers to. Current sanctions are also copied onto ``users`` (``silenced_until``,
``suspended_until``) so that permission rules answer without a query.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin
from forum.discussions.models import Post, Theme
from forum.extensions import db

#: The end date of a ban: a suspension without end.
FOREVER = datetime(9999, 12, 31)


class ThemeModerator(TimestampMixin, db.Model):
    """A moderator whose scope is limited to some themes (no row: a global moderator)."""

    __tablename__ = "theme_moderators"
    __table_args__ = (UniqueConstraint("user_id", "theme_id", name="uq_theme_moderators_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), nullable=False, index=True)

    user: Mapped[User] = relationship()
    theme: Mapped[Theme] = relationship()


class ReportReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    ILLEGAL = "illegal"
    OTHER = "other"


REASON_LABELS = {
    ReportReason.SPAM: _l("spam"),
    ReportReason.ABUSE: _l("propos injurieux ou harcèlement"),
    ReportReason.OFF_TOPIC: _l("hors sujet"),
    ReportReason.ILLEGAL: _l("contenu illicite"),
    ReportReason.OTHER: _l("autre"),
}


class ReportStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # nothing wrong found
    UPHELD = "upheld"  # the post was hidden (or the user sanctioned)


STATUS_LABELS = {
    ReportStatus.OPEN: _l("en cours d'examen"),
    ReportStatus.DISMISSED: _l("examiné : rien à retirer"),
    ReportStatus.UPHELD: _l("examiné : mesure prise"),
}


class Report(TimestampMixin, db.Model):
    """A member's report of a post (``post_id``) or of a user (``post_id`` None)."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'dismissed', 'upheld')", name="status"),
        CheckConstraint(
            "reason IN ('spam', 'abuse', 'off_topic', 'illegal', 'other')", name="reason"
        ),
        # One open report per member per post: ``open_key`` is the post id (or "u" + the
        # user id) while the report is open, NULL once handled; NULLs never collide.
        UniqueConstraint("reporter_id", "open_key", name="uq_reports_reporter_open"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    #: A reported private message (``post_id`` None): moderators see it with its context.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL"), index=True
    )
    #: The user reported: the post's author, or the user reported from their profile.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    #: The theme of the post when reported (None for a user report): the queue's scope.
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    reason: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    open_key: Mapped[str | None] = mapped_column(String(20))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    post: Mapped[Post | None] = relationship()

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS[ReportReason(self.reason)])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[ReportStatus(self.status)])


class SanctionKind(StrEnum):
    WARN = "warn"
    SILENCE = "silence"
    SUSPEND = "suspend"
    BAN = "ban"


SANCTION_LABELS = {
    SanctionKind.WARN: _l("avertissement"),
    SanctionKind.SILENCE: _l("mise en silence"),
    SanctionKind.SUSPEND: _l("suspension"),
    SanctionKind.BAN: _l("bannissement"),
}


class Sanction(TimestampMixin, db.Model):
    __tablename__ = "sanctions"
    __table_args__ = (
        CheckConstraint("kind IN ('warn', 'silence', 'suspend', 'ban')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    #: None for a warning; FOREVER for a ban.
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    moderator: Mapped[User] = relationship(foreign_keys=[moderator_id])

    @property
    def kind_label(self) -> str:
        return str(SANCTION_LABELS[SanctionKind(self.kind)])

    @property
    def is_forever(self) -> bool:
        return self.ends_at == FOREVER


class UserNote(TimestampMixin, db.Model):
    """A moderator's private note about a user, read by moderators only."""

    __tablename__ = "user_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class WordAction(StrEnum):
    BLOCK = "block"
    REVIEW = "review"
    REPLACE = "replace"


WORD_ACTION_LABELS = {
    WordAction.BLOCK: _l("bloquer le message"),
    WordAction.REVIEW: _l("envoyer en file de modération"),
    WordAction.REPLACE: _l("masquer le mot"),
}


class WatchedWord(TimestampMixin, db.Model):
    __tablename__ = "watched_words"
    __table_args__ = (CheckConstraint("action IN ('block', 'review', 'replace')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The folded form (accents and case removed) that matching compares; unique.
    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def action_label(self) -> str:
        return str(WORD_ACTION_LABELS[WordAction(self.action)])


class LogEntry(TimestampMixin, db.Model):
    """One moderation act: who, what, on what, why, and the details to understand it."""

    __tablename__ = "moderation_log"
    __table_args__ = (Index("ix_moderation_log_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None when the forum acted by itself (auto-hide after reports).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    #: The user the act concerns (the post's author, the sanctioned user…).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    reason: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    #: JSON: what is needed to understand the act and undo it by hand.
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    theme: Mapped[Theme | None] = relationship()

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")


class AppendOnlyError(RuntimeError):
    """Someone tried to change or remove a moderation log entry."""


@event.listens_for(LogEntry, "before_update")
@event.listens_for(LogEntry, "before_delete")
def _refuse_changes(_mapper, _connection, entry: LogEntry) -> None:
    raise AppendOnlyError(f"moderation log entry {entry.id} is append-only")
