"""Build users, threads and reply trees through the services, so counters and HTML are real.

Each factory runs in its own app context and returns the object refreshed and
detached: its columns can be read after the context is gone.
"""

from __future__ import annotations

import itertools

from flask import Flask
from sqlalchemy import select, update

from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.notifications.models import OutboxMail

PASSWORD = "un mot de passe solide"
_numbers = itertools.count(1)


def _detached(obj):
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def make_user(
    app: Flask,
    username: str | None = None,
    *,
    role: str = "member",
    verified: bool = True,
    **profile,
):
    username = username or f"membre{next(_numbers)}"
    with app.app_context():
        user = accounts.register(username, f"{username}@exemple.org", PASSWORD, role=Role(role))
        if verified:  # as if the member had received and followed the link mailed
            user.email_verified_at = utcnow()
            db.session.execute(
                update(OutboxMail).where(OutboxMail.user_id == user.id).values(sent_at=utcnow())
            )
            db.session.commit()
        if profile:
            accounts.update_profile(user, **profile)
        return _detached(user)


def _user(user_or_id) -> User:
    return db.session.get(User, getattr(user_or_id, "id", user_or_id))


def make_thread(
    app: Flask,
    author,
    theme: str = "services-publics",
    title: str | None = None,
    body: str | None = None,
) -> Thread:
    title = title or f"Un fil de discussion n°{next(_numbers)}"
    # Distinct bodies: the same body twice from one author within 5 minutes is refused.
    body = body or f"Un premier message pour ouvrir le débat (n°{next(_numbers)})."
    with app.app_context():
        theme_row = db.session.execute(select(Theme).where(Theme.slug == theme)).scalar_one()
        thread = discussions.create_thread(_user(author), theme_row, title, body)
        return _detached(thread)


def make_reply(app: Flask, author, thread, parent=None, body: str | None = None) -> Post:
    body = body or f"Une réponse argumentée n°{next(_numbers)}."
    with app.app_context():
        thread_row = db.session.get(Thread, getattr(thread, "id", thread))
        parent_row = db.session.get(Post, getattr(parent, "id", parent)) if parent else None
        post = discussions.reply(_user(author), thread_row, body, parent_row)
        return _detached(post)


def opening_post(app: Flask, thread) -> Post:
    with app.app_context():
        post = db.session.execute(
            select(Post).where(Post.thread_id == getattr(thread, "id", thread), Post.path == "")
        ).scalar_one()
        return _detached(post)


def make_tree(app: Flask, author, thread, shape: list[int]) -> list[Post]:
    """Replies in a regular shape: ``[3, 2]`` = 3 replies to the opening post, 2 to each."""
    posts: list[Post] = []
    level = [None]
    for width in shape:
        next_level = []
        for parent in level:
            for _ in range(width):
                post = make_reply(app, author, thread, parent)
                posts.append(post)
                next_level.append(post)
        level = next_level
    return posts


def login(client, username: str, password: str = PASSWORD):
    """Log ``username`` in through the form, and fail here unless the login went through.

    A login that did not go through leaves an anonymous client, whose forms answer with
    a redirect to the login page: a test that then checks for a redirect would pass.
    """
    response = client.post_form("/auth/login", {"login": username, "password": password})
    assert_redirect(response)
    with client.session_transaction() as session:
        assert session.get("_user_id"), f"{username} is not logged in"
    return response


def assert_redirect(response, to: str | None = None) -> None:
    """A 302/303 that is not the login page (where anonymous requests are sent), to ``to``."""
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 303), (response.status_code, location)
    assert "/auth/login" not in location, f"sent to the login page: {location}"
    if to is not None:
        assert location.split("#", 1)[0].endswith(to), (location, to)


def search_candidate_reads(app: Flask) -> int:
    """The statements a text search spends reading its candidates before the page's own:
    on PostgreSQL the newest index row's id, then the one window a small forum needs
    (forum.search.backend.PostgresBackend); none on SQLite, which counts them within the
    page's statement."""
    return 2 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else 0
