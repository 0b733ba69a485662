"""What happens to a post before it is stored: watched words and pre-moderation.

:func:`screen` is the one entry point, called by the discussion services in the post's
own transaction for a new thread (title and opening post), a reply and an edit, so that
every watched word acts the same wherever it appears: "block" refuses the write,
"replace" masks the word, "review" sends the post to the moderation queue. A post that
must wait is stored with ``pending_at`` set: its author and the moderators of its theme
see it ("en attente de validation"), nobody else, until a moderator approves it from
the queue; a waiting opening post keeps its thread out of lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import words


@dataclass(frozen=True)
class Verdict:
    """What to store: the texts (watched words masked) and the post's ``pending_at``."""

    body: str
    #: None when no title was screened (a reply, an edit).
    title: str | None
    #: None: published at once; a date: the post waits in the moderation queue.
    pending_at: datetime | None


def _premoderated(author: User, theme: Theme) -> bool:
    """Whether the first posts of ``author`` still wait for approval in ``theme``."""
    first = current_app.config["FORUM_PREMODERATION_POSTS"]
    if first <= 0 or author.role != Role.MEMBER:
        return False
    themes = current_app.config["FORUM_PREMODERATION_THEMES"]
    if themes and theme.slug not in themes:
        return False
    approved = db.session.execute(
        select(func.count())
        .select_from(Post)
        .where(Post.author_id == author.id, Post.pending_at.is_(None))
    ).scalar_one()
    return approved < first


def screen(author: User, theme: Theme | None, body: str, *, title: str | None = None) -> Verdict:
    """Screen a post's ``body`` (and its thread's ``title``) against the watched words.

    ``theme``: where a new post is about to be created (pre-moderation of first posts
    applies there); None for an edit, where only the watched words decide.

    :raise Refused: a blocked watched word in the title or the body.
    """
    rows = words.load()
    review = False
    if title is not None:
        title, review = words.check(title, rows, title=True)
    body, body_review = words.check(body, rows)
    pending = review or body_review or (theme is not None and _premoderated(author, theme))
    return Verdict(body=body, title=title, pending_at=utcnow() if pending else None)


def hold(post: Post, pending_at: datetime) -> None:
    """Send an edited, already published ``post`` back to the queue (its thread too, if it
    opens one), in the current transaction. A post already waiting keeps its place."""
    if post.pending_at is not None:
        return
    post.pending_at = pending_at
    if post.parent_id is None:
        db.session.execute(
            update(Thread)
            .where(Thread.id == post.thread_id, Thread.hidden_at.is_(None))
            .values(hidden_at=pending_at)
        )
