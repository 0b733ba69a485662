"""Blocking a member: they cannot start a conversation with me nor add me to one, and I do
not see the messages they write after the block in conversations we already share."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import upsert, utcnow
from forum.extensions import db
from forum.messages.models import Block
from forum.permissions import Action, can
from forum.refusals import Refused


def block(blocker: User, target: User) -> None:
    """:raise Refused: oneself or a member of the moderation team."""
    if not can(blocker, Action.USER_BLOCK, target):
        raise Refused(
            _("Vous ne pouvez pas bloquer ce compte (vous-même ou l'équipe de modération).")
        )
    stmt = upsert(db.session, Block).values(
        blocker_id=blocker.id, blocked_id=target.id, created_at=utcnow()
    )
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["blocker_id", "blocked_id"]))
    db.session.commit()


def unblock(blocker: User, target: User) -> None:
    db.session.execute(
        delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target.id)
    )
    db.session.commit()


def blocks_of(user: User) -> list[Block]:
    """The members ``user`` blocked, most recent first (their accounts loaded)."""
    return list(
        db.session.execute(
            select(Block)
            .options(joinedload(Block.blocked))
            .where(Block.blocker_id == user.id)
            .order_by(Block.created_at.desc())
        ).scalars()
    )


def has_blocked(user: User, target: User) -> bool:
    if not user.is_authenticated:
        return False
    return (
        db.session.execute(
            select(Block.blocked_id).where(
                Block.blocker_id == user.id, Block.blocked_id == target.id
            )
        ).first()
        is not None
    )


def block_dates(user: User) -> dict[int, object]:
    """{blocked member id: when} for hiding their later messages on a page (one query)."""
    return dict(
        db.session.execute(
            select(Block.blocked_id, Block.created_at).where(Block.blocker_id == user.id)
        ).all()
    )
