"""Conversations, their participants, their messages (flat, in order), revisions and blocks.

A conversation is flat: its messages come back in ``id`` order in one indexed query. What a
participant may read is a window of that list: from ``visible_from`` (set when they joined
with ``visible_from_now``) to ``left_at`` (set when they left). Lines such as "X a rejoint la
conversation" are messages of their own kind (``joined``, ``left``, ``system``), so they sit
in the same order without a second query.

Each participant row carries ``counted``: the conversation is unread for them and counted in
``users.unread_conversations`` (the header's number, read from the row already loaded).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin
from forum.extensions import db

#: 2 to 20 participants, the starter included.
MAX_PARTICIPANTS = 20
SUBJECT_LENGTH = (3, 150)


class MessageKind(StrEnum):
    MESSAGE = "message"
    JOINED = "joined"
    LEFT = "left"
    SYSTEM = "system"


class Conversation(TimestampMixin, db.Model):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_starter_created", "starter_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(150), nullable=False)
    starter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Where it was opened from, for the services that open conversations ("directory"…).
    origin: Mapped[str | None] = mapped_column(String(40))
    #: Messages written (system lines excluded), deleted ones included.
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_message_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: The id of the last message or line: a participant who read up to it has read it all.
    last_message_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    starter: Mapped[User | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="conversation", order_by="Participant.joined_at", lazy="selectin"
    )

    def participant(self, user) -> Participant | None:
        """The row of ``user`` (active or gone), None when they never took part."""
        user_id = getattr(user, "id", None)
        for row in self.participants:
            if row.user_id == user_id:
                return row
        return None

    @property
    def active_participants(self) -> list[Participant]:
        return [row for row in self.participants if row.left_at is None]

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {self.subject!r}>"


class Participant(db.Model):
    __tablename__ = "conversation_participants"
    __table_args__ = (Index("ix_conversation_participants_user", "user_id", "left_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Messages before this moment are not shown to them (joined with ``visible_from_now``).
    visible_from: Mapped[datetime | None] = mapped_column(DateTime)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    muted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Every message up to this id has been shown to them.
    last_read_message_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Unread and counted in ``users.unread_conversations``.
    counted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    def sees(self, message: Message) -> bool:
        """Whether ``message`` is inside this participant's window."""
        if self.visible_from is not None and message.created_at < self.visible_from:
            return False
        return self.left_at is None or message.created_at <= self.left_at


class Message(TimestampMixin, db.Model):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        CheckConstraint("kind IN ('message', 'joined', 'left', 'system')", name="kind"),
        Index("ix_conversation_messages_conversation_id", "conversation_id", "id"),
        Index("ix_conversation_messages_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    #: The writer, or the member a line is about; None once the account is gone.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="message")
    body_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    render_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    edit_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Hidden by a moderator after a report: a placeholder for the participants.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    conversation: Mapped[Conversation] = relationship()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_line(self) -> bool:
        """A line of the conversation's life (joined, left, system), not a message."""
        return self.kind != MessageKind.MESSAGE

    def __repr__(self) -> str:
        return f"<Message {self.id} of conversation {self.conversation_id}>"


class MessageRevision(db.Model):
    """A body a message had before an edit: one row per edit, never changed."""

    __tablename__ = "message_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    body_source: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Block(TimestampMixin, db.Model):
    """``blocker`` does not want to hear from ``blocked`` in private conversations."""

    __tablename__ = "user_blocks"

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)

    blocked: Mapped[User] = relationship(foreign_keys=[blocked_id])
