"""Writes on private conversations: one call, one transaction.

The API other domains call (the directory and mediation open conversations through it):
:func:`start_conversation`, :func:`add_participant`, :func:`post_message`,
:func:`system_line`. Each checks through :mod:`forum.permissions`, refuses with
:class:`forum.refusals.Refused` (a French message; nothing changed), commits once, then
notifies after the commit (bell, header count, mail), never the other way round.

Counters move in SQL: a participant row's ``counted`` flag says the conversation is unread
and counted in ``users.unread_conversations``; the flag flips with a conditional UPDATE, so
the counter moves once per conversation whatever the number of messages.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.services import check_body
from forum.extensions import db
from forum.messages.models import (
    MAX_PARTICIPANTS,
    SUBJECT_LENGTH,
    Block,
    Conversation,
    Message,
    MessageKind,
    MessageRevision,
    Participant,
)
from forum.moderation.notices import sanction_notice
from forum.permissions import Action, can
from forum.refusals import Refused


class Forbidden(Refused):
    """Refused because of who asks (sanction, not a participant any more…): a 403."""


class TooMany(Refused):
    """Refused by a rate limit: a 429."""


def _require(user: User, action: Action, obj, message: str) -> None:
    if can(user, action, obj):
        return
    if getattr(user, "is_silenced", False) or getattr(user, "is_suspended", False):
        raise Forbidden(sanction_notice(user))
    raise Forbidden(message)


# -- reading recipients and subjects ----------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;]+")


def find_recipients(names: str) -> list[User]:
    """The members named in ``names`` (pseudos separated by commas or spaces, ``@`` allowed).

    :raise Refused: no name, or a pseudo that names nobody.
    """
    from forum.accounts.services import username_key

    wanted = [name.lstrip("@") for name in _SEPARATORS.split(names or "") if name.strip("@")]
    if not wanted:
        raise Refused(_("Indiquez à qui vous écrivez : un ou plusieurs pseudos."))
    if len(wanted) > MAX_PARTICIPANTS * 2:
        raise Refused(_("Trop de destinataires : une conversation réunit au plus 20 personnes."))
    keys = {username_key(name): name for name in wanted}
    found = {
        user.username_key: user
        for user in db.session.execute(select(User).where(User.username_key.in_(keys))).scalars()
    }
    unknown = [name for key, name in keys.items() if key not in found]
    if unknown:
        raise Refused(_("Aucun·e membre ne porte ce pseudo : %(names)s.", names=", ".join(unknown)))
    return [found[key] for key in keys]


def check_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if "\x00" in subject:
        raise Refused(_("Le sujet contient un caractère nul : retirez-le puis réessayez."))
    low, high = SUBJECT_LENGTH
    if not low <= len(subject) <= high:
        raise Refused(
            _("Le sujet doit faire entre %(low)d et %(high)d caractères.", low=low, high=high)
        )
    return subject


def blocked_by(user_ids: list[int], author_id: int) -> set[int]:
    """Those of ``user_ids`` who blocked ``author_id``."""
    if not user_ids:
        return set()
    return set(
        db.session.execute(
            select(Block.blocker_id).where(
                Block.blocked_id == author_id, Block.blocker_id.in_(user_ids)
            )
        ).scalars()
    )


def _refuse_blocked(author: User, users: list[User]) -> None:
    """Nobody is put in a conversation with someone they blocked, or who blocked them."""
    ids = [user.id for user in users]
    blocking = db.session.execute(
        select(Block.blocker_id, Block.blocked_id).where(
            or_(
                and_(Block.blocked_id == author.id, Block.blocker_id.in_(ids)),
                and_(Block.blocker_id == author.id, Block.blocked_id.in_(ids)),
            )
        )
    ).all()
    names = {user.id: user.username for user in users}
    for blocker_id, blocked_id in blocking:
        if blocker_id == author.id:
            raise Refused(
                _(
                    "Vous avez bloqué %(name)s : débloquez ce compte depuis vos réglages pour "
                    "lui écrire.",
                    name=names[blocked_id],
                )
            )
        raise Refused(_("%(name)s ne souhaite pas recevoir vos messages.", name=names[blocker_id]))


def _limits_apply() -> bool:
    """Rate limits follow ``FORUM_RATE_LIMITS``: only the ``default`` policy counts."""
    return current_app.config["FORUM_RATE_LIMITS"] == "default"


def _refuse_too_many_conversations(starter: User) -> None:
    if not _limits_apply():
        return
    now = utcnow()
    config = current_app.config
    started = db.session.execute(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.starter_id == starter.id,
            Conversation.created_at >= now - timedelta(days=1),
        )
    ).scalar_one()
    new_account = starter.created_at is not None and now - starter.created_at < timedelta(days=1)
    per_day = config["FORUM_MESSAGES_CONVERSATIONS_PER_DAY"]
    if new_account and started >= config["FORUM_MESSAGES_NEW_ACCOUNT_CONVERSATIONS"]:
        raise TooMany(
            _(
                "Bienvenue ! Un compte de moins de 24 heures peut ouvrir %(n)d conversations : "
                "revenez demain pour en ouvrir d'autres.",
                n=config["FORUM_MESSAGES_NEW_ACCOUNT_CONVERSATIONS"],
            )
        )
    if per_day and started >= per_day:
        raise TooMany(
            _(
                "Vous avez ouvert %(n)d conversations en 24 heures, le maximum : "
                "poursuivez plutôt une conversation existante.",
                n=per_day,
            )
        )


def _refuse_too_fast(author: User) -> None:
    interval = current_app.config["FORUM_MESSAGES_MIN_INTERVAL"]
    if not _limits_apply() or not interval:
        return
    recent = db.session.execute(
        select(Message.id)
        .where(
            Message.author_id == author.id,
            Message.kind == MessageKind.MESSAGE.value,
            Message.created_at > utcnow() - timedelta(seconds=interval),
        )
        .limit(1)
    ).scalar()
    if recent is not None:
        raise TooMany(_("Vous êtes allé·e un peu vite. Patientez un instant puis réessayez."))


def _render(body: str) -> dict:
    return {
        "body_source": body,
        "body_html": content.render_markdown(body),
        "render_version": content.RENDER_VERSION,
    }


# -- the API ----------------------------------------------------------------------------------


def start_conversation(
    starter: User,
    recipients: list[User],
    subject: str,
    body: str,
    *,
    origin: str | None = None,
) -> Conversation:
    """Open a conversation between ``starter`` and ``recipients`` with a first message.

    :raise Refused: bad subject or body, no recipient or too many, a block between the
        starter and a recipient, a rate limit (:class:`TooMany`), a sanction
        (:class:`Forbidden`).
    """
    _require(
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
    _refuse_blocked(starter, others)
    _refuse_too_many_conversations(starter)
    _refuse_too_fast(starter)
    rendered = _render(body)
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
    db.session.commit()
    _notify(message_id)
    return db.session.get(Conversation, conversation_id)


def add_participant(
    conversation: Conversation,
    user: User,
    *,
    by: User,
    visible_from_now: bool = False,
) -> None:
    """Add ``user`` to ``conversation``, at the request of ``by``.

    ``by`` is the starter, or anyone :mod:`forum.permissions` allows to invite. With
    ``visible_from_now`` the newcomer reads only what is written from now on; the others
    read "X a rejoint la conversation" at that date either way. Someone who had left
    comes back.

    :raise Refused: already there, the conversation is full, a block between ``user`` and
        ``by`` or a participant, a suspended account; :class:`Forbidden` when ``by`` may not.
    """
    _require(
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
    _refuse_blocked(by, [user])
    blocked = blocked_by([p.user_id for p in conversation.active_participants], user.id)
    if blocked:
        raise Refused(
            _("%(name)s ne peut pas rejoindre cette conversation : un·e participant·e l'a bloqué·e.",
              name=user.username)
        )  # fmt: skip
    if (
        blocked_by([user.id], by.id)
        or db.session.execute(
            select(Block.blocked_id).where(
                Block.blocker_id == user.id,
                Block.blocked_id.in_([p.user_id for p in conversation.active_participants]),
            )
        ).first()
    ):
        raise Refused(
            _("%(name)s ne souhaite pas recevoir de messages de certain·es participant·es.",
              name=user.username)
        )  # fmt: skip
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
    line_id = line.id
    db.session.commit()
    _notify(line_id, only=[user.id])


def post_message(conversation: Conversation, author: User, body: str) -> Message:
    """Write ``body`` in ``conversation``; the others are told after the commit.

    :raise Refused: a bad body, a rate limit (:class:`TooMany`); :class:`Forbidden` when
        ``author`` is not an active participant or may not write (sanction).
    """
    _require(
        author,
        Action.CONVERSATION_REPLY,
        conversation,
        _("Vous ne participez plus à cette conversation : vous ne pouvez plus y écrire."),
    )
    body = check_body(body)
    _refuse_too_fast(author)
    rendered = _render(body)
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
    db.session.commit()
    _notify(message_id)
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
    from forum.notifications.messages import after_message

    after_message(message_id, only=only)


# -- leaving, muting, reading -----------------------------------------------------------------


def leave(conversation: Conversation, user: User) -> None:
    """``user`` leaves: the others read "a quitté la conversation"; they read no more."""
    _require(
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
    _require(
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


def mark_read(conversation: Conversation, row: Participant) -> None:
    """``row``'s participant has seen the conversation up to its last message."""
    from forum.notifications.messages import read_conversation

    upto = conversation.last_message_id
    if row.left_at is not None or (row.last_read_message_id >= upto and not row.counted):
        read_conversation(row.user_id, conversation.id, commit=True)
        return
    db.session.execute(
        update(Participant)
        .where(
            Participant.conversation_id == conversation.id,
            Participant.user_id == row.user_id,
        )
        .values(last_read_message_id=upto)
    )
    _uncount(conversation.id, row.user_id)
    read_conversation(row.user_id, conversation.id, commit=False)
    db.session.commit()


# -- editing and deleting ---------------------------------------------------------------------


def edit_message(editor: User, message: Message, body: str) -> Message:
    """Replace the body of one's own message (within 15 minutes), keeping a revision.

    :raise Refused: a bad body; :class:`Forbidden` past the delay or not the author.
    """
    _require(
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
    for key, value in _render(body).items():
        setattr(message, key, value)
    message.edited_at = now
    message.edit_count = Message.edit_count + 1
    db.session.commit()
    return message


def delete_message(actor: User, message: Message) -> Message:
    """Delete one's own message softly: a placeholder keeps its place."""
    _require(actor, Action.MESSAGE_DELETE, message, _("Vous ne pouvez pas supprimer ce message."))
    message.deleted_at = utcnow()
    db.session.commit()
    return message


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


def my_conversations(user: User, page: int = 1, per_page: int = 30):
    """``user``'s conversations (not left), most recent activity first, paged."""
    from forum.pagination import paginate

    stmt = (
        select(Participant)
        .join(Participant.conversation)
        .options(joinedload(Participant.conversation).selectinload(Conversation.participants))
        .where(Participant.user_id == user.id, Participant.left_at.is_(None))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return paginate(stmt, page, per_page)
