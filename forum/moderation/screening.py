"""What happens to a new post before it is stored: watched words and pre-moderation.

Called by the discussion services in the post's own transaction. A post that must wait
is stored with ``pending_at`` set: its author and the moderators of its theme see it
("en attente de validation"), nobody else, until a moderator approves it from the queue.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.discussions.models import Post, Theme
from forum.extensions import db
from forum.moderation import words


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


def screen_new_post(author: User, theme: Theme, body: str):
    """The body to store and the ``pending_at`` to give the post (None: published).

    :raise Refused: a blocked watched word.
    """
    body, review = words.check(body)
    pending = review or _premoderated(author, theme)
    return body, (utcnow() if pending else None)
