"""Watches, read positions, notifications, mail preferences and the outbox.

A member's relation to a thread is one row (Discourse's ``topic_users``): the
watch level and the read position together, so a thread page reads both in one
query. A theme is watched (new threads notified) when a :class:`ThemeWatch` row
exists. The member's unread notification count is a counter on ``users``,
moved in SQL, so the bell on every page costs no query.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin, utcnow
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db


class Level(StrEnum):
    WATCHING = "watching"
    NORMAL = "normal"
    MUTED = "muted"


LEVEL_LABELS = {
    Level.WATCHING: _l("Suivre"),
    Level.NORMAL: _l("Normal"),
    Level.MUTED: _l("Silencieux"),
}


class Kind(StrEnum):
    REPLY = "reply"
    MENTION = "mention"
    WATCHED_POST = "watched_post"
    NEW_THREAD = "new_thread"
    SEMINAR = "seminar"
    MODERATION = "moderation"
    MESSAGE = "message"
    DIRECTORY = "directory"
    REACTION = "reaction"


class SeminarEvent(StrEnum):
    FOLLOW_UP = "follow_up"
    MINUTES = "minutes"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"


class ModerationEvent(StrEnum):
    """What the moderation did that concerns the member (``Notification.event``)."""

    POST_HIDDEN = "post_hidden"
    POST_RESTORED = "post_restored"
    REPORT_HANDLED = "report_handled"
    SANCTION = "sanction"
    PENDING_APPROVED = "pending_approved"
    PENDING_REJECTED = "pending_rejected"
    THREAD_LOCKED = "thread_locked"


class DirectoryEvent(StrEnum):
    """What happened in the directory (``Notification.event``, kind ``directory``)."""

    MATCH = "match"
    CONTACT_NEW = "contact_new"
    CONTACT_ACCEPTED = "contact_accepted"
    CONTACT_DECLINED = "contact_declined"
    CONTACT_EXPIRED = "contact_expired"
    MEDIATION_TAKEN = "mediation_taken"
    MEDIATION_CLOSED = "mediation_closed"


class Delivery(StrEnum):
    IMMEDIATELY = "immediately"
    DIGEST = "digest"
    NEVER = "never"


#: E-mail delivery when the member chose nothing (the issue's defaults).
DEFAULT_DELIVERY = {
    Kind.REPLY: Delivery.IMMEDIATELY,
    Kind.MENTION: Delivery.IMMEDIATELY,
    Kind.SEMINAR: Delivery.IMMEDIATELY,
    Kind.MODERATION: Delivery.IMMEDIATELY,
    Kind.WATCHED_POST: Delivery.DIGEST,
    Kind.NEW_THREAD: Delivery.DIGEST,
    Kind.MESSAGE: Delivery.IMMEDIATELY,
    Kind.DIRECTORY: Delivery.IMMEDIATELY,
    Kind.REACTION: Delivery.DIGEST,
}

KIND_LABELS = {
    Kind.REPLY: _l("Réponses à mes messages"),
    Kind.MENTION: _l("Mentions de mon pseudo"),
    Kind.WATCHED_POST: _l("Nouveaux messages dans les fils suivis"),
    Kind.NEW_THREAD: _l("Nouveaux fils dans les thèmes suivis"),
    Kind.SEMINAR: _l("Invitations et nouvelles des séminaires"),
    Kind.MODERATION: _l("Décisions de la modération qui me concernent"),
    Kind.MESSAGE: _l("Messages privés"),
    Kind.DIRECTORY: _l("Mises en relation, et nouvelles offres qui répondent à mes besoins"),
    Kind.REACTION: _l("Réactions à mes messages (au plus une par heure et par message)"),
}

DELIVERY_LABELS = {
    Delivery.IMMEDIATELY: _l("tout de suite"),
    Delivery.DIGEST: _l("dans le résumé quotidien"),
    Delivery.NEVER: _l("jamais"),
}


class ThreadState(db.Model):
    """A member and a thread: watch level (None: normal) and how far they read."""

    __tablename__ = "thread_states"
    __table_args__ = (
        CheckConstraint("level IS NULL OR level IN ('watching', 'normal', 'muted')", name="level"),
        Index("ix_thread_states_thread_level", "thread_id", "level"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), primary_key=True)
    level: Mapped[str | None] = mapped_column(String(10))
    #: Every post of the thread up to this id has been shown to the member.
    last_read_post_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Posts of the thread read (opening post included): "N nouveaux" = reply_count + 1 - this.
    read_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    thread: Mapped[Thread] = relationship()


class ThemeWatch(TimestampMixin, db.Model):
    """The member is told of every new thread in this theme."""

    __tablename__ = "theme_watches"
    __table_args__ = (Index("ix_theme_watches_theme_id", "theme_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True)

    theme: Mapped[Theme] = relationship()


class Notification(TimestampMixin, db.Model):
    """Something a member should learn, shown under the bell until read."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_post_id", "post_id"),
        Index("ix_notifications_digest", "digest_state", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: For seminar and moderation notifications: which event (:class:`SeminarEvent`,
    #: :class:`ModerationEvent`).
    event: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("seminar_sessions.id"))
    seminar_id: Mapped[int | None] = mapped_column(ForeignKey("seminars.id"))
    #: For private messages: the conversation (its text is never copied here).
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    #: For directory notifications (:class:`DirectoryEvent`): the offer or the request.
    offer_id: Mapped[int | None] = mapped_column(Integer)
    contact_request_id: Mapped[int | None] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: "pending" while it waits for the daily digest, "sent" once in one, else None.
    digest_state: Mapped[str | None] = mapped_column(String(10))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    thread: Mapped[Thread | None] = relationship()
    post: Mapped[Post | None] = relationship()
    conversation = relationship("Conversation")


class MailPreference(db.Model):
    """How a member wants to be e-mailed about one kind of notification."""

    __tablename__ = "mail_preferences"
    __table_args__ = (
        CheckConstraint("delivery IN ('immediately', 'digest', 'never')", name="delivery"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(12), nullable=False)


class OutboxMail(TimestampMixin, db.Model):
    """A mail written in the transaction of its event, sent by the worker.

    A sender claims it (``claim_token``, lease until ``claimed_until``) in a short
    transaction, sends it, then marks it sent if the claim is still its own. After a
    failure the token is cleared and ``claimed_until`` says when to try again.
    """

    __tablename__ = "outbox_mails"
    __table_args__ = (
        Index("ix_outbox_mails_sent_at", "sent_at"),
        Index(
            "ix_outbox_mails_due",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False)
    #: The one-click unsubscribe URL (RFC 8058), empty for account mails.
    unsubscribe_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
