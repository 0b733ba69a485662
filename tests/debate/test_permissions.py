"""The debate's permissions as a matrix: viewer × action × object state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.accounts.models import AnonymousUser, User
from forum.db import utcnow
from forum.debate import services, synthesis
from forum.debate.models import Poll, Synthesis
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.permissions import can
from tests.debate.conftest import reply_with
from tests.factories import make_thread, make_user

VIEWERS = ("anonymous", "member", "author", "participant", "silenced", "moderator", "admin")
T, F = True, False
#: (action, object, state) -> answers for the viewers above. "author" wrote the thread,
#: the poll and the reply; "participant" replied in the thread.
DEBATE_MATRIX = {
    ("post:react", "reply", "open"): (F, T, F, T, F, T, T),
    ("post:react", "reply", "hidden"): (F, F, F, F, F, F, F),
    ("post:react", "reply", "locked"): (F, T, F, T, F, T, T),
    ("post:react", "reply", "archived"): (F, F, F, F, F, F, F),
    ("poll:create", "thread", "open"): (F, F, T, F, F, T, T),
    ("poll:create", "thread", "locked"): (F, F, F, F, F, T, T),
    ("poll:vote", "poll", "open"): (F, T, T, T, F, T, T),
    ("poll:vote", "poll", "closed"): (F, F, F, F, F, F, F),
    ("poll:close", "poll", "open"): (F, F, T, F, F, T, T),
    ("poll:close", "poll", "closed"): (F, F, F, F, F, F, F),
    ("poll:export", "poll", "closed"): (F, F, T, F, F, T, T),
    ("synthesis:edit", "thread", "open"): (F, F, F, F, F, T, T),
    ("synthesis:edit", "thread", "authors-allowed"): (F, F, T, F, F, T, T),
    ("synthesis:view", "synthesis", "draft"): (F, F, T, T, T, T, T),
    ("synthesis:view", "synthesis", "published"): (T, T, T, T, T, T, T),
    ("synthesis:approve", "synthesis", "draft"): (F, F, T, T, F, F, F),
    ("synthesis:approve", "synthesis", "published"): (F, F, F, F, F, F, F),
    ("synthesis:publish", "synthesis", "draft"): (F, F, F, F, F, T, T),
}


@pytest.fixture
def world(app):
    ids = {name: make_user(app, name).id for name in ("member", "author", "participant")}
    ids["silenced"] = make_user(app, "silenced").id
    ids["moderator"] = make_user(app, "moderator", role="moderator").id
    ids["admin"] = make_user(app, "admin", role="admin").id
    thread = make_thread(app, ids["author"], title="Un fil pour la matrice")
    first = reply_with(app, make_user(app, "autre"), thread, body="Un message d'un·e autre.")
    reply = reply_with(app, make_user(app, "redac"), thread, first, "pour", "Réponse.")
    for name in ("participant", "silenced"):
        reply_with(app, User(id=ids[name]), thread, reply, "contre", f"Non, dit {name}.")
    with app.app_context():
        db.session.get(Post, reply.id).author_id = ids["author"]
        db.session.get(User, ids["silenced"]).silenced_until = utcnow() + timedelta(days=3)
        moderator = db.session.get(User, ids["moderator"])
        thread_row = db.session.get(Thread, thread.id)
        poll = services.create_poll(
            db.session.get(User, ids["author"]), thread_row, question="Oui ?", options="oui\nnon"
        )
        poll.author_id = ids["author"]
        found = synthesis.save(moderator, thread_row, consensus="- Un point")
        db.session.commit()
        return {"ids": ids, "thread": thread.id, "reply": reply.id, "poll": poll.id,
                "synthesis": found.id}  # fmt: skip


def _object(world, kind: str, state: str):
    thread = db.session.get(Thread, world["thread"])
    thread.locked = state == "locked"
    thread.theme.archived_at = utcnow() if state == "archived" else None
    thread.theme.synthesis_by_authors = state == "authors-allowed"
    if kind == "thread":
        return thread
    if kind == "reply":
        post = db.session.get(Post, world["reply"])
        post.hidden_at = utcnow() if state == "hidden" else None
        return post
    if kind == "poll":
        poll = db.session.get(Poll, world["poll"])
        poll.closed_at = utcnow() if state == "closed" else None
        return poll
    found = db.session.get(Synthesis, world["synthesis"])
    found.published_at = utcnow() if state == "published" else None
    return found


@pytest.mark.parametrize(("action", "kind", "state"), list(DEBATE_MATRIX))
def test_debate_permission_matrix(app, world, action, kind, state):
    with app.app_context():
        obj = _object(world, kind, state)
        answers = []
        for viewer in VIEWERS:
            user = (
                AnonymousUser()
                if viewer == "anonymous"
                else db.session.get(User, world["ids"][viewer])
            )
            answers.append(can(user, action, obj))
        db.session.rollback()
    assert tuple(answers) == DEBATE_MATRIX[(action, kind, state)], dict(
        zip(VIEWERS, answers, strict=True)
    )
