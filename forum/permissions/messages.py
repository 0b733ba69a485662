"""Private conversations: only their participants know they exist."""

from __future__ import annotations

from forum.accounts.models import Role
from forum.db import utcnow
from forum.permissions import (
    Action,
    _global_moderator,
    _member,
    _writer,
    rule,
)

# A conversation exists only for its participants: views refuse the others with 404
# (:func:`ensure_found`), never 403. Rules read ``conversation.participants``, loaded with
# the conversation.

#: A member edits their own message within this many seconds of writing it.
MESSAGE_EDIT_WINDOW_S = 15 * 60


def _participant(user, conversation):
    """The row of ``user`` in ``conversation`` (active or gone), None for anyone else."""
    if not user.is_authenticated:
        return None
    return conversation.participant(user)


def _active_participant(user, conversation) -> bool:
    row = _participant(user, conversation)
    return row is not None and row.left_at is None


@rule(Action.CONVERSATION_START)
def _conversation_start(user, recipient=None) -> bool:
    """Writers start conversations; the service checks blocks and limits per recipient."""
    return _writer(user) and (recipient is None or recipient.id != user.id)


@rule(Action.CONVERSATION_VIEW)
def _conversation_view(user, conversation) -> bool:
    """Participants, present or gone (a leaver reads up to their departure)."""
    return _member(user) and _participant(user, conversation) is not None


@rule(Action.CONVERSATION_REPLY)
def _conversation_reply(user, conversation) -> bool:
    return _writer(user) and _active_participant(user, conversation)


@rule(Action.CONVERSATION_INVITE)
def _conversation_invite(user, conversation) -> bool:
    """The starter, still in the conversation, adds participants."""
    return (
        _conversation_reply(user, conversation)
        and conversation.starter_id == user.id
        and len(conversation.active_participants) < _max_participants()
    )


def _max_participants() -> int:
    from forum.messages.models import MAX_PARTICIPANTS

    return MAX_PARTICIPANTS


@rule(Action.CONVERSATION_LEAVE)
def _conversation_leave(user, conversation) -> bool:
    """Leave (or mute): any participant still there, even silenced."""
    return _member(user) and _active_participant(user, conversation)


def _own_message(user, message) -> bool:
    return (
        _member(user)
        and message.author_id == user.id
        and message.kind == "message"
        and not message.is_deleted
        and _active_participant(user, message.conversation)
    )


@rule(Action.MESSAGE_EDIT)
def _message_edit(user, message) -> bool:
    """Their own message, within 15 minutes, while they may still write."""
    age = (utcnow() - message.created_at).total_seconds()
    return _own_message(user, message) and _writer(user) and age <= MESSAGE_EDIT_WINDOW_S


@rule(Action.MESSAGE_DELETE)
def _message_delete(user, message) -> bool:
    return _own_message(user, message)


@rule(Action.MESSAGE_REPORT)
def _message_report(user, message) -> bool:
    """A participant who can read it reports someone else's message."""
    row = _participant(user, message.conversation)
    return (
        _writer(user)
        and row is not None
        and message.kind == "message"
        and message.author_id != user.id
        and not message.is_deleted
        and not message.is_hidden
        and row.sees(message)
    )


@rule(Action.MESSAGE_REVIEW)
def _message_review(user, message=None) -> bool:
    """Global moderators read a reported message and its context (and nothing else)."""
    return _global_moderator(user)


@rule(Action.USER_BLOCK)
def _user_block(user, target) -> bool:
    """Block (or unblock) anyone but oneself and the moderation team."""
    return _member(user) and target.id != user.id and target.role == Role.MEMBER


class ConversationRights:
    """What one viewer may do to each message of one conversation, for a page of hundreds.

    The message rules above depend on the viewer only through facts that are the same for
    every message: who they are, whether they may write, their row (window, still there).
    Those are taken once; each message is then decided from its own attributes.
    ``rights.message(message)`` is the set of actions ``can(user, action, message)``
    allows (``tests/messages/test_matrix.py`` checks that they agree).
    """

    __slots__ = ("member", "now", "row", "user_id", "writer")

    def __init__(self, user, conversation) -> None:
        self.member = _member(user)
        self.writer = _writer(user)
        self.row = _participant(user, conversation)
        self.user_id = user.id if self.member else None
        self.now = utcnow()

    def message(self, message) -> frozenset[Action]:
        row = self.row
        if row is None or message.kind != "message" or message.is_deleted:
            return frozenset()
        allowed = []
        if message.author_id == self.user_id:
            if row.left_at is None:
                allowed.append(Action.MESSAGE_DELETE)
                age = (self.now - message.created_at).total_seconds()
                if self.writer and age <= MESSAGE_EDIT_WINDOW_S:
                    allowed.append(Action.MESSAGE_EDIT)
        elif self.writer and not message.is_hidden and row.sees(message):
            allowed.append(Action.MESSAGE_REPORT)
        return frozenset(allowed)
