"""Private messages: who hears of a new message, under the bell and by mail.

The message's transaction writes the job that tells of it (:func:`notify_message`,
through :func:`forum.jobs.services.enqueue_soon`): a message rolled back tells nobody;
right after the commit the request runs the job, writing the notifications and mails in
the transaction that completes it, and should it not, the worker does (each mail once).
The active participants other than the author are told, except those who muted the
conversation or blocked the author. Mail follows the member's "messages privés" preference
(immediately by default, in the digest, never) with the one-click unsubscribe; it carries
the text of the message, private to them anyway. Mentions inside a message notify nobody:
only participants hear of it. A fixed number of queries whatever the number of participants.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db
from forum.jobs import services as jobs
from forum.notifications import mail
from forum.notifications.fanout import _NOTIFY, _RING, recount
from forum.notifications.models import Delivery, Kind, Notification
from forum.notifications.preferences import _preferences, delivery_for, unsubscribe_url

#: The largest part of a message's text copied into a mail.
MAIL_TEXT_LIMIT = 20_000


def _subject(kind: str, actor: str, subject: str) -> str:
    if kind == "joined":
        return _(
            "%(actor)s vous a ajouté·e à la conversation « %(title)s »", actor=actor, title=subject
        )
    return _("%(actor)s vous a écrit : « %(title)s »", actor=actor, title=subject)


#: The job that tells the participants of a message.
MESSAGE_JOB = "notifications.message"


def notify_message(message_id: int, *, only: list[int] | None = None) -> int:
    """In the message's transaction: the job that tells its participants; returns its id.

    ``only``: the members to tell (a newcomer hears they were added); default: every
    active participant but the author, minus muted and blocking ones (as they are when
    the job runs).
    """
    return jobs.enqueue_soon(MESSAGE_JOB, {"message_id": message_id, "only": only})


@jobs.handler(MESSAGE_JOB)
def _message_job(payload: dict) -> list[int]:
    """Tell the participants of a committed message (or "joined" line): reads, then
    writes; the caller commits. Returns the ids of the mails queued."""
    from forum.messages.models import Block, Conversation, Message, Participant

    only = payload.get("only")
    found = db.session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == payload["message_id"])
    ).first()
    if found is None:
        return []
    message, conversation = found
    rows = (
        select(User)
        .join(Participant, Participant.user_id == User.id)
        .where(
            Participant.conversation_id == conversation.id,
            Participant.left_at.is_(None),
            Participant.muted.is_(False),
        )
    )
    if only is not None:
        rows = rows.where(User.id.in_(only))
    else:
        rows = rows.where(
            User.id != message.author_id,
            User.id.not_in(select(Block.blocker_id).where(Block.blocked_id == message.author_id)),
        )
    users = list(db.session.execute(rows).scalars())
    if not users:
        return []
    actor = db.session.get(User, message.author_id) if message.author_id else None
    inviter = None
    if message.kind == "joined":
        inviter_id = db.session.execute(
            select(Participant.invited_by_id).where(
                Participant.conversation_id == conversation.id,
                Participant.user_id == message.author_id,
            )
        ).scalar()
        inviter = db.session.get(User, inviter_id) if inviter_id else None
    who = inviter if message.kind == "joined" else actor
    actor_name = who.username if who is not None else ""
    return _fan_out(users, message, conversation, who, actor_name)


def _fan_out(users, message, conversation, who, actor_name: str) -> list[int]:
    now = utcnow()
    ids = [user.id for user in users]
    prefs = _preferences(ids)
    url = mail.external_url(
        "messages.conversation", conversation_id=conversation.id, _anchor=f"message-{message.id}"
    )
    rows, outbox = [], []
    for user in users:
        delivery = delivery_for(prefs, user.id, Kind.MESSAGE.value)
        rows.append(
            {
                "user_id": user.id,
                "kind": Kind.MESSAGE.value,
                "event": message.kind,
                "created_at": now,
                "digest_state": "pending" if delivery == Delivery.DIGEST else None,
                "actor_id": who.id if who is not None else None,
                "conversation_id": conversation.id,
            }
        )
        if delivery == Delivery.IMMEDIATELY and user.email:
            with force_locale(user.locale or "fr"):
                subject = _subject(message.kind, actor_name, conversation.subject)
            outbox.append(
                mail.compose(
                    user.email,
                    subject,
                    "message",
                    user=user,
                    unsubscribe_url=unsubscribe_url(user.id, Kind.MESSAGE.value),
                    event=message.kind,
                    actor_name=actor_name,
                    title=conversation.subject,
                    text=message.body_source[:MAIL_TEXT_LIMIT],
                    html=message.body_html,
                    url=url,
                )
            )
    db.session.execute(_NOTIFY, rows)
    db.session.execute(_RING, {"recipients": ids})
    return mail.queue_rows(outbox)


def read_conversation(user_id: int, conversation_id: int) -> None:
    """The member read the conversation: its notifications are read too (counter follows).

    In the caller's transaction."""
    done = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.conversation_id == conversation_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .returning(Notification.id)
    ).first()
    if done is not None:
        recount([user_id])
