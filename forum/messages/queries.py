"""What conversation pages read: a conversation with its participants, the messages a
participant may see, a member's conversations, a message's revisions. Few queries each,
whatever the length of a conversation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from forum.accounts.models import User
from forum.extensions import db
from forum.messages.models import Conversation, Message, MessageRevision, Participant
from forum.pagination import Page, paginate


def revisions(message: Message) -> list[MessageRevision]:
    return list(
        db.session.execute(
            select(MessageRevision)
            .where(MessageRevision.message_id == message.id)
            .order_by(MessageRevision.id.desc())
        ).scalars()
    )


# -- what pages read --------------------------------------------------------------------------


def conversation_of(conversation_id: int) -> Conversation | None:
    """The conversation with its participants (and their accounts): two queries."""
    if not 0 < conversation_id <= 2**31 - 1:
        return None
    return db.session.execute(
        select(Conversation)
        .options(selectinload(Conversation.participants))
        .where(Conversation.id == conversation_id)
    ).scalar()


def visible_messages(conversation: Conversation, row: Participant) -> list[Message]:
    """The messages and lines ``row``'s participant may read, in order: one query."""
    stmt = (
        select(Message)
        .options(joinedload(Message.author))
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id)
    )
    if row.visible_from is not None:
        stmt = stmt.where(Message.created_at >= row.visible_from)
    if row.left_at is not None:
        stmt = stmt.where(Message.created_at <= row.left_at)
    return list(db.session.execute(stmt).scalars())


def my_conversations(user: User, page: int = 1, per_page: int = 30) -> Page:
    """``user``'s conversations (not left), most recent activity first, paged."""
    stmt = (
        select(Participant)
        .join(Participant.conversation)
        .options(joinedload(Participant.conversation).selectinload(Conversation.participants))
        .where(Participant.user_id == user.id, Participant.left_at.is_(None))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return paginate(stmt, page, per_page)
