"""Keeping the index in step with posts, rebuilding it, and running a search.

The discussion services call :func:`index_post` and :func:`unindex_post` inside
their own transaction, so the index never disagrees with what was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.pagination import Page, paginate
from forum.permissions import visible_posts, visible_threads
from forum.search.backend import get_backend
from forum.search.models import SearchEntry
from forum.search.text import ParsedQuery, highlight, normalise

#: Enough for any post body (50,000 characters of Markdown).
PLAIN_TEXT_LIMIT = 1_000_000
PERIODS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "365d": timedelta(days=365)}
KINDS = ("fils", "messages")


def _entry_values(post: Post, thread: Thread) -> dict:
    return {
        "title": normalise(thread.title) if post.parent_id is None else "",
        "body": normalise(content.plain_text(post.body_html, limit=PLAIN_TEXT_LIMIT)),
    }


def index_post(post: Post, thread: Thread) -> None:
    """Add or refresh the index row of ``post`` (flushed), in the current transaction."""
    values = _entry_values(post, thread)
    entry = db.session.get(SearchEntry, post.id)
    if entry is None:
        db.session.add(SearchEntry(post_id=post.id, **values))
    else:
        entry.title, entry.body = values["title"], values["body"]


def unindex_post(post: Post) -> None:
    """Take ``post`` out of the index (it was deleted), in the current transaction."""
    db.session.execute(delete(SearchEntry).where(SearchEntry.post_id == post.id))


def reindex(batch_size: int = 1000) -> int:
    """Rebuild the whole index from the posts; returns the number of posts indexed."""
    db.session.execute(delete(SearchEntry))
    done, last_id = 0, 0
    while True:
        rows = db.session.execute(
            select(Post.id, Post.parent_id, Post.body_html, Thread.title)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.deleted_at.is_(None), Post.id > last_id)
            .order_by(Post.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        db.session.execute(
            insert(SearchEntry),
            [
                {
                    "post_id": row.id,
                    "title": normalise(row.title) if row.parent_id is None else "",
                    "body": normalise(content.plain_text(row.body_html, limit=PLAIN_TEXT_LIMIT)),
                }
                for row in rows
            ],
        )
        done += len(rows)
        last_id = rows[-1].id
    get_backend().rebuild()
    db.session.commit()
    return done


@dataclass
class Filters:
    theme: Theme | None = None
    author: User | None = None
    since: str | None = None
    kind: str | None = None


@dataclass
class Result:
    post: Post
    title: Markup
    snippet: Markup


def search(viewer, query: ParsedQuery, filters: Filters, page: int, per_page: int) -> Page:
    """One page of the posts ``viewer`` may read that match ``query``, best first.

    Ties (same score) go to the most recent. Items are :class:`Result` objects.
    """
    matches = get_backend().matches(query)
    stmt = (
        select(Post)
        .join(matches, matches.c.post_id == Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .options(joinedload(Post.thread), joinedload(Post.author))
        .order_by(matches.c.score, Post.created_at.desc(), Post.id.desc())
    )
    stmt = visible_threads(visible_posts(stmt, viewer), viewer)
    if filters.theme is not None:
        stmt = stmt.where(Thread.theme_id == filters.theme.id)
    if filters.author is not None:
        stmt = stmt.where(Post.author_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(Post.created_at >= utcnow() - PERIODS[filters.since])
    if filters.kind == "fils":
        stmt = stmt.where(Post.parent_id.is_(None))
    elif filters.kind == "messages":
        stmt = stmt.where(Post.parent_id.is_not(None))
    result = paginate(stmt, page, per_page)
    stems = query.highlight
    result.items = [
        Result(
            post=post,
            title=highlight(post.thread.title, stems, width=1000),
            snippet=highlight(content.plain_text(post.body_html, limit=PLAIN_TEXT_LIMIT), stems),
        )
        for post in result.items
    ]
    return result
