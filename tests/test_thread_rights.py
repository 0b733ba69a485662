"""``ThreadRights`` (the thread page's per-post answers) agrees with ``can`` everywhere.

Every post action, for every kind of viewer (the moderation world's nine, plus a member
whose address is not verified), on the opening post and on a reply, written by each of
them (or by a second admin), in every combination of deleted, hidden, pending and
edited, with the thread open, locked, merged or in an archived theme, with and without a
mail server (unverified members may not write when there is one).
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.permissions import Action, ThreadRights, can
from tests.factories import make_user
from tests.moderation.conftest import VIEWERS, build_world, viewer_user

#: Every action whose object is a post (post:reply is asked of the thread).
POST_ACTIONS = frozenset(
    action for action in Action if action.startswith("post:") and action != Action.POST_REPLY
)
THREAD_STATES = ("open", "locked", "merged", "archived")
#: (deleted, hidden, pending, edited) in every combination.
POST_STATES = list(itertools.product((False, True), repeat=4))


def _set_thread_state(thread: Thread, other_thread: int, state: str) -> None:
    thread.locked = state == "locked"
    thread.merged_into_id = other_thread if state == "merged" else None
    thread.theme.archived_at = utcnow() if state == "archived" else None


def _set_post_state(post: Post, state: tuple[bool, bool, bool, bool]) -> None:
    deleted, hidden, pending, edited = state
    now = utcnow()
    post.deleted_at = now if deleted else None
    post.hidden_at = now if hidden else None
    post.pending_at = now if pending else None
    post.edit_count = 1 if edited else 0


@pytest.mark.parametrize("mail_server", [None, "smtp.exemple.org"], ids=["no-mail", "mail"])
@pytest.mark.parametrize("thread_state", THREAD_STATES)
def test_thread_rights_agree_with_can(app, thread_state, mail_server):
    world = build_world(app)
    unverified = make_user(app, "pas_encore", verified=False).id
    app.config["FORUM_MAIL_SERVER"] = mail_server
    disagreements = []
    checked = 0
    with app.app_context(), db.session.no_autoflush:
        thread = db.session.get(Thread, world.thread)
        posts = [
            db.session.execute(
                select(Post).where(Post.thread_id == thread.id, Post.parent_id.is_(None))
            ).scalar_one(),
            db.session.get(Post, world.post),
        ]
        _set_thread_state(thread, world.other_thread, thread_state)
        viewers = {name: viewer_user(world, name) for name in VIEWERS}
        viewers["unverified"] = db.session.get(User, unverified)
        authors = [user for user in viewers.values() if user.is_authenticated]
        authors.append(db.session.get(User, world.users["admin2"]))
        for name, user in viewers.items():
            rights = ThreadRights(user, thread)
            for post, author, state in itertools.product(posts, authors, POST_STATES):
                post.author_id, post.author = author.id, author
                _set_post_state(post, state)
                allowed = rights.post(post)
                assert allowed <= POST_ACTIONS
                # Shown at all: not pending, or to whom may read it hidden.
                shown = not post.is_pending or can(user, Action.POST_READ_HIDDEN, post)
                if rights.shows(post) != shown:
                    disagreements.append((name, post.is_opening, author.username, state, "shows"))
                for action in POST_ACTIONS:
                    checked += 1
                    expected = can(user, action, post)
                    if (action in allowed) != expected:
                        disagreements.append(
                            (name, post.is_opening, author.username, state, action.value, expected)
                        )
        db.session.rollback()
    assert checked == 10 * 2 * 10 * len(POST_STATES) * len(POST_ACTIONS)
    assert disagreements == [], "(viewer, opening, author, (deleted, hidden, pending, edited), …)"


def test_thread_rights_refuse_a_post_of_another_thread(app):
    world = build_world(app)
    with app.app_context():
        other = db.session.execute(
            select(Post).where(Post.thread_id == world.other_thread)
        ).scalar_one()
        rights = ThreadRights(viewer_user(world, "admin"), db.session.get(Thread, world.thread))
        with pytest.raises(ValueError):
            rights.post(other)
