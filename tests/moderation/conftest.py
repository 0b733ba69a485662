"""A moderation world: two themes, every kind of viewer, a thread with posts to act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.accounts.models import AnonymousUser, User
from forum.db import utcnow
from forum.discussions.models import Theme
from forum.extensions import db
from forum.moderation import services
from tests.factories import PASSWORD, login, make_reply, make_thread, make_user

#: Who looks: the issue's viewers. "this" is the thread's theme (services-publics).
VIEWERS = (
    "anonymous",
    "member",
    "author",
    "silenced",
    "suspended",
    "mod_other",
    "mod_this",
    "global",
    "admin",
)


@dataclass
class World:
    users: dict[str, int]
    thread: int
    other_thread: int  # same theme, by the member: a merge target
    post: int  # a reply by the author
    other_post: int  # a reply by the member
    admin_post: int  # a reply by the admin


def theme_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.execute(select(Theme.id).where(Theme.slug == slug)).scalar_one()


def build_world(app) -> World:
    users = {
        "member": make_user(app, "membre").id,
        "author": make_user(app, "autrice").id,
        "silenced": make_user(app, "silencieux").id,
        "suspended": make_user(app, "suspendue").id,
        "mod_other": make_user(app, "modo_urbain").id,
        "mod_this": make_user(app, "modo_services").id,
        "global": make_user(app, "modo", role="moderator").id,
        "admin": make_user(app, "admin", role="admin").id,
        "admin2": make_user(app, "admin2", role="admin").id,
    }
    thread = make_thread(app, users["author"], title="Le fil de l'autrice")
    other_thread = make_thread(app, users["member"], title="Un autre fil du thème")
    post = make_reply(app, users["author"], thread, body="Réponse de l'autrice")
    other = make_reply(app, users["member"], thread, body="Réponse du membre")
    admin_post = make_reply(app, users["admin"], thread, body="Réponse de l'admin")
    with app.app_context():
        get = lambda key: db.session.get(User, users[key])  # noqa: E731
        for key, slug in (("mod_other", "urbain"), ("mod_this", "services-publics")):
            theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar_one()
            services.set_role(None, get(key), "moderator", theme)
        later = utcnow() + timedelta(days=3)
        get("silenced").silenced_until = later
        get("suspended").suspended_until = later
        db.session.commit()
    return World(
        users=users,
        thread=thread.id,
        other_thread=other_thread.id,
        post=post.id,
        other_post=other.id,
        admin_post=admin_post.id,
    )


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def viewer_user(world: World, viewer: str):
    if viewer == "anonymous":
        return AnonymousUser()
    return db.session.get(User, world.users[viewer])


def login_as(client, world: World, viewer: str, app=None):
    """Log ``viewer`` in; a suspended account is refused (403) and stays anonymous."""
    if viewer == "anonymous":
        return None
    names = {
        "member": "membre",
        "author": "autrice",
        "silenced": "silencieux",
        "suspended": "suspendue",
        "mod_other": "modo_urbain",
        "mod_this": "modo_services",
        "global": "modo",
        "admin": "admin",
    }
    if viewer == "suspended":
        return client.post_form("/auth/login", {"login": names[viewer], "password": PASSWORD})
    return login(client, names[viewer])
