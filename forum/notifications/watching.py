"""Watching: which threads and themes a member follows, and how closely."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import upsert, utcnow
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.notifications.models import (
    Level,
    ThemeWatch,
    ThreadState,
)
from forum.permissions import Action, ensure, visible_threads
from forum.refusals import Refused


def state_for(user, thread_id: int) -> ThreadState | None:
    if not user.is_authenticated:
        return None
    return db.session.get(ThreadState, (user.id, thread_id))


def states_for(user, thread_ids: list[int]) -> dict[int, ThreadState]:
    """The member's states of these threads, by thread id: one query (none if anonymous)."""
    if not user.is_authenticated or not thread_ids:
        return {}
    rows = db.session.execute(
        select(ThreadState).where(
            ThreadState.user_id == user.id, ThreadState.thread_id.in_(thread_ids)
        )
    ).scalars()
    return {row.thread_id: row for row in rows}


def _level(level: str) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise Refused(
            _("Niveau de suivi inconnu : choisissez suivre, normal ou silencieux.")
        ) from None


def watch_thread(user: User, thread: Thread, level: str) -> None:
    """Set ``user``'s watch level on ``thread``. :raise Refused: unknown level."""
    ensure(user, Action.THREAD_WATCH, thread)
    level = _level(level)
    stmt = upsert(db.session, ThreadState).values(
        user_id=user.id, thread_id=thread.id, level=level.value, updated_at=utcnow()
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "thread_id"], set_={"level": stmt.excluded.level}
        )
    )
    db.session.commit()


def watch_theme(user: User, theme: Theme, level: str) -> None:
    """``watching``: be told of new threads in ``theme``; ``normal``/``muted``: not."""
    ensure(user, Action.THEME_WATCH, theme)
    level = _level(level)
    db.session.execute(
        delete(ThemeWatch).where(ThemeWatch.user_id == user.id, ThemeWatch.theme_id == theme.id)
    )
    if level == Level.WATCHING:
        db.session.add(ThemeWatch(user_id=user.id, theme_id=theme.id))
    db.session.commit()


def watches_theme(user, theme: Theme) -> bool:
    if not user.is_authenticated:
        return False
    return db.session.get(ThemeWatch, (user.id, theme.id)) is not None


def followed(user: User) -> tuple[list[ThreadState], list[ThemeWatch]]:
    """Threads ``user`` watches or muted, and themes watched."""
    threads = db.session.execute(
        visible_threads(select(ThreadState).join(ThreadState.thread), user)
        .options(joinedload(ThreadState.thread))
        .where(ThreadState.user_id == user.id, ThreadState.level.in_(["watching", "muted"]))
        .order_by(Thread.last_post_at.desc())
        .limit(200)
    ).scalars()
    themes = db.session.execute(
        select(ThemeWatch)
        .options(joinedload(ThemeWatch.theme))
        .where(ThemeWatch.user_id == user.id)
        .order_by(ThemeWatch.created_at)
    ).scalars()
    return list(threads), list(themes)
