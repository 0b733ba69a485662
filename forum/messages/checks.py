"""What a conversation's writes check before changing anything: recipients, subjects,
blocks between members, sanctions and rate limits. Each refusal is a :class:`Refused`
(400), a :class:`Forbidden` (403) or a :class:`TooMany` (429), in French."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db
from forum.messages.models import (
    MAX_PARTICIPANTS,
    SUBJECT_LENGTH,
    Block,
    Conversation,
    Message,
    MessageKind,
)
from forum.moderation.notices import sanction_notice
from forum.permissions import Action, can
from forum.refusals import Refused


class Forbidden(Refused):
    """Refused because of who asks (sanction, not a participant any more…): a 403."""


class TooMany(Refused):
    """Refused by a rate limit: a 429."""


def require(user: User, action: Action, obj, message: str) -> None:
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


def refuse_blocked(author: User, users: list[User]) -> None:
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


def limits_apply() -> bool:
    """Rate limits follow ``FORUM_RATE_LIMITS``: only the ``default`` policy counts."""
    return current_app.config["FORUM_RATE_LIMITS"] == "default"


def refuse_too_many_conversations(starter: User) -> None:
    if not limits_apply():
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


def refuse_too_fast(author: User) -> None:
    interval = current_app.config["FORUM_MESSAGES_MIN_INTERVAL"]
    if not limits_apply() or not interval:
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


def render(body: str) -> dict:
    return {
        "body_source": body,
        "body_html": content.render_markdown(body),
        "render_version": content.RENDER_VERSION,
    }
