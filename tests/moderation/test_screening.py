"""Watched words act the same wherever they appear: every action × every entry point.

The entries are a new thread's title, a new thread's opening post, a reply and an edit.
"block" refuses the write and changes nothing; "replace" masks the word in what is
stored; "review" stores the post waiting in the moderation queue (a waiting opening
post keeps its thread out of lists).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import reports, words
from forum.refusals import Refused
from tests.factories import PASSWORD, make_reply, make_thread, make_user

WORD = {"block": "arnaque", "replace": "crétin", "review": "vote payé"}
#: How the word is written in the text: another case, accents dropped, spaces doubled.
WRITTEN = {"block": "ARNAQUE", "replace": "Cretin", "review": "Vote  PAYÉ"}
ENTRIES = ("create_title", "create_body", "reply", "edit")


def _write(app, entry: str, author, word_text: str) -> int:
    """Write ``word_text`` through ``entry``; the id of the post concerned (new or edited)."""
    title = "Un titre tout à fait anodin"
    body = "Un texte tout à fait anodin pour commencer."
    thread = None
    if entry in ("reply", "edit"):
        thread = make_thread(app, author, title=title, body=body)
    with app.app_context():
        user = db.session.get(User, author.id)
        theme = db.session.execute(
            select(Theme).where(Theme.slug == "services-publics")
        ).scalar_one()
        if entry == "create_title":
            made = discussions.create_thread(user, theme, f"{title} {word_text}", body)
            return _opening(made.id).id
        if entry == "create_body":
            made = discussions.create_thread(user, theme, title, f"{body} {word_text}")
            return _opening(made.id).id
        if entry == "reply":
            row = db.session.get(Thread, thread.id)
            post = discussions.reply(user, row, f"Une réponse : {word_text}.")
            return post.id
        post = _opening(thread.id)
        discussions.edit_post(user, post, f"{body} Ajout : {word_text}.")
        return post.id


def _opening(thread_id: int) -> Post:
    return db.session.execute(
        select(Post).where(Post.thread_id == thread_id, Post.parent_id.is_(None))
    ).scalar_one()


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("action", ["block", "replace", "review", "none"])
def test_every_watched_word_action_at_every_entry(app, action, entry):
    author = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    with app.app_context():
        for kind, word in WORD.items():
            words.add(db.session.get(User, modo.id), word, kind)
    text = WRITTEN.get(action, "rien à signaler")

    if action == "block":
        with app.app_context():
            threads_before = db.session.execute(select(func.count(Thread.id))).scalar_one()
            posts_before = db.session.execute(select(func.count(Post.id))).scalar_one()
        # reply and edit first make their (clean) thread: count after it exists.
        if entry in ("reply", "edit"):
            threads_before, posts_before = threads_before + 1, posts_before + 1
        with pytest.raises(Refused, match="« arnaque »") as refused:
            _write(app, entry, author, text)
        expected = "Le titre contient" if entry == "create_title" else "Votre message contient"
        assert expected in refused.value.message
        with app.app_context():
            db.session.rollback()
            assert db.session.execute(select(func.count(Thread.id))).scalar_one() == threads_before
            assert db.session.execute(select(func.count(Post.id))).scalar_one() == posts_before
            if entry == "edit":
                assert "ARNAQUE" not in _opening(_last_thread()).body_source
        return

    post_id = _write(app, entry, author, text)
    with app.app_context():
        post = db.session.get(Post, post_id)
        stored = post.thread.title if entry == "create_title" else post.body_source
        other = post.body_source if entry == "create_title" else post.thread.title
        queue = reports.queue(db.session.get(User, modo.id))
        waiting = [item.post.id for item in queue if item.kind == "pending"]
        if action == "replace":
            assert "Cretin" not in stored and "■■■■■■" in stored
            assert post.body_html.count("■") == (6 if entry != "create_title" else 0)
        else:  # a title's spaces are folded
            assert " ".join(text.split()) in " ".join(stored.split())
        assert "■" not in other
        if action == "review":
            assert post.pending_at is not None
            assert waiting == [post.id]
            if post.parent_id is None:  # a waiting opening post keeps its thread out of lists
                assert post.thread.hidden_at is not None
        else:
            assert post.pending_at is None and waiting == []
            assert post.thread.hidden_at is None


def _last_thread() -> int:
    return db.session.execute(select(func.max(Thread.id))).scalar_one()


def test_edit_into_a_review_word_sends_the_post_back_to_the_queue_from_the_page(app, client):
    """As a member would: a clean reply, then an edit that brings a review word in."""
    author = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    with app.app_context():
        words.add(db.session.get(User, modo.id), "vote payé", "review")
    thread = make_thread(app, modo)
    post = make_reply(app, author, thread, body="Un message tout à fait propre.")
    client.post_form("/auth/login", {"login": "alice", "password": PASSWORD})
    answer = client.post_form(
        f"/posts/{post.id}/edit", {"body": "Finalement : vote payé ici.", "reason": ""}
    )
    assert answer.status_code == 302
    with app.app_context():
        row = db.session.get(Post, post.id)
        assert row.body_source == "Finalement : vote payé ici."
        assert row.pending_at is not None
        (item,) = reports.queue(db.session.get(User, modo.id))
        assert item.kind == "pending" and item.post.id == post.id
    client.post_form("/auth/logout")
    # Others no longer read it until a moderator approves it.
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "vote payé ici" not in page
