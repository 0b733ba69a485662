"""Helpers of the debate tests: replies with positions, users by name."""

from __future__ import annotations

from sqlalchemy import select

from forum.accounts.models import User
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db


def reply_with(app, author, thread, parent=None, position="", body=None) -> Post:
    """A reply taking ``position`` towards ``parent`` (the opening post when None)."""
    with app.app_context():
        user = db.session.get(User, author.id)
        thread_row = db.session.get(Thread, getattr(thread, "id", thread))
        parent_row = db.session.get(Post, getattr(parent, "id", parent)) if parent else None
        body = body or f"Argument {position or 'libre'} de {user.username} ({id(object())})."
        post = discussions.reply(user, thread_row, body, parent_row, position=position)
        db.session.refresh(post)
        db.session.expunge(post)
        return post


def user_named(username: str) -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()
