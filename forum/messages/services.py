"""Writes on private conversations: one call, one transaction.

The API other domains call (the directory and mediation open conversations through it):
:func:`start_conversation`, :func:`add_participant`, :func:`post_message`,
:func:`system_line`. Each checks through :mod:`forum.permissions`, refuses with
:class:`forum.refusals.Refused` (a French message; nothing changed), and commits once,
with the job that notifies (bell, header count, mail): it runs right after the commit,
or in the worker should the request die first.

Counters move in SQL: a participant row's ``counted`` flag says the conversation is unread
and counted in ``users.unread_conversations``; the flag flips with a conditional UPDATE, so
the counter moves once per conversation whatever the number of messages.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.services import check_body
from forum.extensions import db
from forum.messages.checks import Forbidden as Forbidden  # refusals of this API too
from forum.messages.checks import TooMany as TooMany
from forum.messages.checks import (
    check_subject,
    refuse_blocked,
    refuse_too_fast,
    refuse_too_many_conversations,
    render,
    require,
)
from forum.messages.models import (
    MAX_PARTICIPANTS,
    Block,
    Conversation,
    Message,
    MessageKind,
    MessageRevision,
    Participant,
)
from forum.permissions import Action
from forum.refusals import Refused

# -- the API ----------------------------------------------------------------------------------


def start_conversation(
    starter: User,
    recipients: list[User],
    subject: str,
    body: str,
    *,
    origin: str | None = None,
    commit: bool = True,
) -> Conversation:
    """Open a conversation between ``starter`` and ``recipients`` with a first message.

    ``commit=False``: the caller commits (the directory opens one with the acceptance
    of a contact request, in one transaction); the participants are told after it.

    :raise Refused: bad subject or body, no recipient or too many, a block between the
        starter and a recipient, a rate limit (:class:`TooMany`), a sanction
        (:class:`Forbidden`).
    """
    require(
        starter,
        Action.CONVERSATION_START,
        None,
        _("Vous ne pouvez pas écrire de message privé pour le moment."),
    )
    others = list({user.id: user for user in recipients if user.id != starter.id}.values())
    if not others:
        raise Refused(_("Indiquez au moins un·e autre membre que vous-même."))
    if len(others) + 1 > MAX_PARTICIPANTS:
        raise Refused(
            _(
                "Une conversation réunit au plus %(n)d personnes, vous compris·e.",
                n=MAX_PARTICIPANTS,
            )
        )
    for user in others:
        if user.is_suspended:
            raise Refused(
                _("Le compte %(name)s est suspendu : il ne peut pas recevoir de messages.",
                  name=user.username)
            )  # fmt: skip
    subject, body = check_subject(subject), check_body(body)
    refuse_blocked(starter, others)
    refuse_too_many_conversations(starter)
    refuse_too_fast(starter)
    rendered = render(body)
    now = utcnow()
    conversation = Conversation(
        subject=subject,
        starter_id=starter.id,
        origin=(origin or None) and origin[:40],
        message_count=1,
        last_message_at=now,
        created_at=now,
    )
    db.session.add(conversation)
    db.session.flush()
    message = Message(
        conversation_id=conversation.id,
        author_id=starter.id,
        kind=MessageKind.MESSAGE.value,
        created_at=now,
        **rendered,
    )
    db.session.add(message)
    db.session.flush()
    conversation.last_message_id = message.id
    db.session.add(
        Participant(
            conversation_id=conversation.id,
            user_id=starter.id,
            joined_at=now,
            last_read_message_id=message.id,
        )
    )
    for user in others:
        db.session.add(
            Participant(
                conversation_id=conversation.id,
                user_id=user.id,
                joined_at=now,
                invited_by_id=starter.id,
                counted=True,
            )
        )
    db.session.flush()
    db.session.execute(
        update(User)
        .where(User.id.in_([user.id for user in others]))
        .values(unread_conversations=User.unread_conversations + 1)
    )
    conversation_id, message_id = conversation.id, message.id
    _notify(message_id)
    if not commit:
        return conversation
    db.session.commit()
    return db.session.get(Conversation, conversation_id)


def add_participant(
    conversation: Conversation,
    user: User,
    *,
    by: User,
    visible_from_now: bool = False,
    commit: bool = True,
) -> None:
    """Add ``user`` to ``conversation``, at the request of ``by``.

    ``by`` is the starter, or anyone :mod:`forum.permissions` allows to invite. With
    ``visible_from_now`` the newcomer reads only what is written from now on; the others
    read "X a rejoint la conversation" at that date either way. Someone who had left
    comes back. ``commit=False``: the caller commits (a mediator joins as they take a
    contact request, in one transaction).

    :raise Refused: already there, the conversation is full, a block between ``user`` and
        ``by``, a suspended account; :class:`Forbidden` when ``by`` may not. Blocks between
        the newcomer and other participants only hide messages, as in any conversation.
    """
    require(
        by,
        Action.CONVERSATION_INVITE,
        conversation,
        _("Seule la personne qui a ouvert la conversation peut y ajouter quelqu'un."),
    )
    row = conversation.participant(user)
    if row is not None and row.is_active:
        raise Refused(_("%(name)s participe déjà à cette conversation.", name=user.username))
    if len(conversation.active_participants) >= MAX_PARTICIPANTS:
        raise Refused(_("Une conversation réunit au plus %(n)d personnes.", n=MAX_PARTICIPANTS))
    if user.is_suspended:
        raise Refused(
            _("Le compte %(name)s est suspendu : il ne peut pas recevoir de messages.",
              name=user.username)
        )  # fmt: skip
    if user.id == by.id:
        raise Refused(_("Vous participez déjà à cette conversation."))
    refuse_blocked(by, [user])
    now = utcnow()
    line = _line(conversation, MessageKind.JOINED, user, now)
    if row is None:
        row = Participant(conversation_id=conversation.id, user_id=user.id, joined_at=now)
        db.session.add(row)
    row.joined_at = now
    row.left_at = None
    row.invited_by_id = by.id
    row.visible_from = now if visible_from_now else None
    row.muted = False
    db.session.flush()
    if not row.counted:
        row.counted = True
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(unread_conversations=User.unread_conversations + 1)
        )
    _notify(line.id, only=[user.id])
    if commit:
        db.session.commit()


def post_message(conversation: Conversation, author: User, body: str) -> Message:
    """Write ``body`` in ``conversation``; the others are told right after the commit.

    :raise Refused: a bad body, a rate limit (:class:`TooMany`); :class:`Forbidden` when
        ``author`` is not an active participant or may not write (sanction).
    """
    require(
        author,
        Action.CONVERSATION_REPLY,
        conversation,
        _("Vous ne participez plus à cette conversation : vous ne pouvez plus y écrire."),
    )
    body = check_body(body)
    refuse_too_fast(author)
    rendered = render(body)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        author_id=author.id,
        kind=MessageKind.MESSAGE.value,
        created_at=now,
        **rendered,
    )
    db.session.add(message)
    db.session.flush()
    _advance(conversation, message, now, counts=True)
    db.session.execute(
        update(Participant)
        .where(Participant.conversation_id == conversation.id, Participant.user_id == author.id)
        .values(last_read_message_id=message.id)
    )
    _count_unread(conversation.id, author.id)
    message_id = message.id
    _notify(message_id)
    db.session.commit()
    return db.session.get(Message, message_id)


def system_line(conversation: Conversation, text: str) -> Message:
    """Add a line of the conversation's life written by the forum (shown as plain text).

    For events the participants should see in place ("la médiation a été ouverte…").
    Commits; nobody is notified.
    """
    text = " ".join((text or "").split())
    if not text or "\x00" in text:
        raise Refused(_("Une ligne de conversation ne peut pas être vide."))
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        author_id=None,
        kind=MessageKind.SYSTEM.value,
        body_source=text[:1000],
        body_html="",
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    _advance(conversation, message, now, counts=False)
    message_id = message.id
    db.session.commit()
    return db.session.get(Message, message_id)


def _line(conversation: Conversation, kind: MessageKind, user: User, now) -> Message:
    """A joined/left line about ``user``, in the current transaction."""
    message = Message(
        conversation_id=conversation.id, author_id=user.id, kind=kind.value, created_at=now
    )
    db.session.add(message)
    db.session.flush()
    _advance(conversation, message, now, counts=False)
    return message


def _advance(conversation: Conversation, message: Message, now, *, counts: bool) -> None:
    values = {"last_message_at": now, "last_message_id": message.id}
    if counts:
        values["message_count"] = Conversation.message_count + 1
    db.session.execute(
        update(Conversation).where(Conversation.id == conversation.id).values(**values)
    )


_participants = Participant.__table__
_users = User.__table__
_blocks = Block.__table__
#: The others who now have something unread and were not counted yet (never those who
#: left, muted the conversation or blocked the author): their flag flips once.
_FLAG_UNREAD = (
    update(_participants)
    .where(
        _participants.c.conversation_id == bindparam("conversation"),
        _participants.c.user_id != bindparam("author"),
        _participants.c.left_at.is_(None),
        _participants.c.muted.is_(False),
        _participants.c.counted.is_(False),
        _participants.c.user_id.not_in(
            select(_blocks.c.blocker_id).where(_blocks.c.blocked_id == bindparam("author"))
        ),
    )
    .values(counted=True)
    .returning(_participants.c.user_id)
)
_COUNT_UNREAD = (
    update(_users)
    .where(_users.c.id.in_(bindparam("users", expanding=True)))
    .values(unread_conversations=_users.c.unread_conversations + 1)
)


def _count_unread(conversation_id: int, author_id: int) -> None:
    flagged = list(
        db.session.execute(
            _FLAG_UNREAD, {"conversation": conversation_id, "author": author_id}
        ).scalars()
    )
    if flagged:
        db.session.execute(_COUNT_UNREAD, {"users": flagged})


def _uncount(conversation_id: int, user_id: int) -> bool:
    """Clear the unread flag of one participant; moves their counter if it was set."""
    cleared = db.session.execute(
        update(Participant)
        .where(
            Participant.conversation_id == conversation_id,
            Participant.user_id == user_id,
            Participant.counted.is_(True),
        )
        .values(counted=False)
        .returning(Participant.user_id)
    ).first()
    if cleared is not None:
        db.session.execute(
            update(User)
            .where(User.id == user_id, User.unread_conversations > 0)
            .values(unread_conversations=User.unread_conversations - 1)
        )
    return cleared is not None


def _notify(message_id: int, only: list[int] | None = None) -> None:
    """In the message's transaction: the job that tells its participants."""
    from forum.notifications.messages import notify_message

    notify_message(message_id, only=only)


# -- leaving, muting, reading -----------------------------------------------------------------


def leave(conversation: Conversation, user: User) -> None:
    """``user`` leaves: the others read "a quitté la conversation"; they read no more."""
    require(
        user,
        Action.CONVERSATION_LEAVE,
        conversation,
        _("Vous avez déjà quitté cette conversation."),
    )
    now = utcnow()
    _line(conversation, MessageKind.LEFT, user, now)
    db.session.execute(
        update(Participant)
        .where(Participant.conversation_id == conversation.id, Participant.user_id == user.id)
        .values(left_at=now)
    )
    _uncount(conversation.id, user.id)
    db.session.commit()


def set_muted(conversation: Conversation, user: User, muted: bool) -> None:
    """Mute (no notification, no mail, not counted in the header) or unmute."""
    require(
        user, Action.CONVERSATION_LEAVE, conversation, _("Vous avez quitté cette conversation.")
    )
    db.session.execute(
        update(Participant)
        .where(Participant.conversation_id == conversation.id, Participant.user_id == user.id)
        .values(muted=muted)
    )
    if muted:
        _uncount(conversation.id, user.id)
    db.session.commit()


def mark_read(conversation: Conversation, row: Participant, *, notifications: bool) -> None:
    """``row``'s participant has seen the conversation up to its last message.

    At most one short write, and none when nothing changes (``notifications``: the member
    has unread notifications, some perhaps about this conversation). Like a thread's read
    position, a busy database skips it: the page never fails for it. Call it once the page
    is rendered (on SQLite it ends the page's read transaction first).
    """
    from forum.notifications.messages import read_conversation
    from forum.notifications.reading import _impatient

    upto = conversation.last_message_id
    moves = row.left_at is None and (row.last_read_message_id < upto or row.counted)
    if not (moves or notifications):
        return
    conversation_id, user_id = conversation.id, row.user_id
    try:
        with _impatient():
            if moves:
                db.session.execute(
                    update(Participant)
                    .where(
                        Participant.conversation_id == conversation_id,
                        Participant.user_id == user_id,
                    )
                    .values(last_read_message_id=upto)
                )
                _uncount(conversation_id, user_id)
            if notifications:
                read_conversation(user_id, conversation_id)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.info("read position of conversation %s skipped", conversation_id)


# -- editing and deleting ---------------------------------------------------------------------


def edit_message(editor: User, message: Message, body: str) -> Message:
    """Replace the body of one's own message (within 15 minutes), keeping a revision.

    :raise Refused: a bad body; :class:`Forbidden` past the delay or not the author.
    """
    require(
        editor,
        Action.MESSAGE_EDIT,
        message,
        _("Un message se modifie dans les 15 minutes qui suivent son envoi, par son auteur·rice."),
    )
    body = check_body(body)
    if body == message.body_source:
        return message
    now = utcnow()
    db.session.add(
        MessageRevision(
            message_id=message.id,
            body_source=message.body_source,
            body_html=message.body_html,
            written_at=message.edited_at or message.created_at,
            replaced_at=now,
        )
    )
    for key, value in render(body).items():
        setattr(message, key, value)
    message.edited_at = now
    message.edit_count = Message.edit_count + 1
    db.session.commit()
    return message


def delete_message(actor: User, message: Message) -> Message:
    """Delete one's own message softly: a placeholder keeps its place."""
    require(actor, Action.MESSAGE_DELETE, message, _("Vous ne pouvez pas supprimer ce message."))
    message.deleted_at = utcnow()
    db.session.commit()
    return message
