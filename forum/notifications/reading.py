"""Read positions: where a member stopped reading each thread, and what is unread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import (
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import upsert, utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.notifications.models import (
    Level,
    ThreadState,
)
from forum.notifications.watching import state_for
from forum.permissions import visible_posts, visible_threads


def unread_count(thread: Thread, state: ThreadState | None) -> int:
    return max(thread.reply_count + 1 - (state.read_count if state else 0), 0)


def record_read(
    user, thread: Thread, shown: list[Post], state: ThreadState | None, *, whole: bool
) -> None:
    """Move ``user``'s read position past the posts just shown: one write at most.

    ``whole``: the page showed the entire thread. Otherwise the position only
    advances over unread posts that were all on the page (one more query). A
    busy database skips the write: the page never fails for it.
    """
    if not user.is_authenticated or not shown:
        return
    old_last = state.last_read_post_id if state else 0
    old_count = state.read_count if state else 0
    if whole:
        new_last = max(max(post.id for post in shown), old_last)
        new_count = thread.reply_count + 1
    else:
        shown_ids = {post.id for post in shown}
        unread = db.session.execute(
            select(Post.id)
            .where(Post.thread_id == thread.id, Post.id > old_last)
            .order_by(Post.id)
            .limit(1000)
        ).scalars()
        new_last, new_count = old_last, old_count
        for post_id in unread:
            if post_id not in shown_ids:
                break
            new_last, new_count = post_id, new_count + 1
    if new_last == old_last and new_count == old_count:
        return
    user_id, thread_id = user.id, thread.id  # read before the commit expires them
    try:
        with _impatient():
            _save_read_position(user_id, thread_id, new_last, new_count)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.info("read position of thread %s skipped: database busy", thread_id)


#: How long a page view waits for SQLite's write lock before skipping its read position.
READ_POSITION_BUSY_MS = 100


@contextmanager
def _impatient() -> Iterator[None]:
    """On SQLite, end the page's read transaction and wait only briefly for the write lock.

    A page view is a GET: its transaction began deferred, and upgrading it could
    wait the whole busy timeout behind a writer. The read position is not worth it.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    db.session.commit()
    db.session.execute(text(f"PRAGMA busy_timeout = {READ_POSITION_BUSY_MS}"))
    try:
        yield
    finally:
        db.session.rollback()  # nothing left to keep: the body commits what it wrote
        timeout = int(current_app.config["FORUM_SQLITE_BUSY_TIMEOUT_MS"])
        db.session.execute(text(f"PRAGMA busy_timeout = {timeout}"))
        db.session.commit()


def _save_read_position(user_id: int, thread_id: int, last: int, count: int) -> None:
    stmt = upsert(db.session, ThreadState).values(
        user_id=user_id,
        thread_id=thread_id,
        last_read_post_id=last,
        read_count=count,
        updated_at=utcnow(),
    )
    greatest = func.max if db.session.get_bind().dialect.name == "sqlite" else func.greatest
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "thread_id"],
            set_={
                "last_read_post_id": greatest(
                    ThreadState.last_read_post_id, stmt.excluded.last_read_post_id
                ),
                "read_count": stmt.excluded.read_count,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


def first_unread_post_id(user, thread: Thread) -> int | None:
    state = state_for(user, thread.id)
    stmt = visible_posts(select(func.min(Post.id)), user).where(Post.thread_id == thread.id)
    if state is not None:
        stmt = stmt.where(Post.id > state.last_read_post_id)
    return db.session.execute(stmt).scalar()


def unread_threads(user: User, limit: int = 100) -> list[ThreadState]:
    """Followed threads with posts ``user`` has not read, latest activity first."""
    return list(
        db.session.execute(
            visible_threads(select(ThreadState).join(ThreadState.thread), user)
            .options(joinedload(ThreadState.thread).joinedload(Thread.last_post_author))
            .where(
                ThreadState.user_id == user.id,
                ThreadState.level == Level.WATCHING,
                Thread.reply_count + 1 > ThreadState.read_count,
            )
            .order_by(Thread.last_post_at.desc())
            .limit(limit)
        ).scalars()
    )
