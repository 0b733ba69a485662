"""A published synthesis is a search entry of its own: "Synthèse — <thread title>"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.debate import synthesis
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.moderation import services as moderation
from forum.search import services as search
from tests.debate.conftest import reply_with, user_named
from tests.factories import login, make_thread, make_user, opening_post

RESULT_RE = re.compile(r'id="result-(fil|message|actualite|seminaire|seance|synthese)-(\d+)"')


def results(client, query: str) -> list[tuple[str, int]]:
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    return [(kind, int(n)) for kind, n in RESULT_RE.findall(response.get_data(as_text=True))]


@pytest.fixture
def published(app):
    """A thread whose synthesis speaks of mutuelles, which no post mentions."""
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    make_user(app, "lecteur")
    thread = make_thread(app, alice, title="Les tiers-lieux en ville", body="Ouvrons le débat.")
    reply = reply_with(app, make_user(app, "bruno"), thread, body="Ils recréent du lien.")
    with app.app_context():
        found = synthesis.save(
            user_named("modo"),
            db.session.get(Thread, thread.id),
            consensus=f"- Les **mutuelles** peuvent les financer [[post:{reply.id}]]",
        )
        synthesis.publish(user_named("modo"), found)
        return thread.id, found.id


def test_published_synthesis_is_found_as_its_own_kind(app, published):
    thread_id, synthesis_id = published
    client = app.test_client()
    assert results(client, "mutuelle") == [("synthese", synthesis_id)]
    page = client.get("/search?q=mutuelles").get_data(as_text=True)
    assert "Synthèse — Les tiers-lieux en ville" in page
    assert f'href="/threads/{thread_id}#synthese"' in page
    assert "Synthèse du débat" in page
    # The opening post's row holds only the opening post.
    assert results(client, "ouvrons") == [("fil", opening_post(app, thread_id).id)]
    assert results(client, "mutuelle lien") == []


def test_found_after_an_edit_of_the_opening_post_and_a_republication(app, published):
    thread_id, synthesis_id = published
    opening_id = opening_post(app, thread_id).id
    with app.app_context():
        discussions.edit_post(
            user_named("alice"), db.session.get(Post, opening_id), "Un tout autre texte."
        )
    client = app.test_client()
    assert results(client, "mutuelle") == [("synthese", synthesis_id)]
    with app.app_context():
        synthesis.save(
            user_named("modo"),
            db.session.get(Thread, thread_id),
            consensus="- Les **coopératives** aussi.",
        )
    assert results(client, "mutuelle") == []
    assert results(client, "cooperatives") == [("synthese", synthesis_id)]


def test_reindex_keeps_published_syntheses_and_leaves_drafts_out(app, published):
    _thread_id, synthesis_id = published
    draft_thread = make_thread(app, user_named_id(app, "alice"), title="Un autre fil")
    with app.app_context():
        synthesis.save(
            user_named("modo"),
            db.session.get(Thread, draft_thread.id),
            consensus="- Les **mutuelles** encore, en brouillon.",
        )
        db.session.execute(search.SearchEntry.__table__.delete())
        db.session.commit()
        search.reindex()
        indexed = db.session.execute(
            select(search.SearchEntry.object_id).where(search.SearchEntry.kind == "synthesis")
        ).scalars()
        assert list(indexed) == [synthesis_id]  # the draft is left out
    assert results(app.test_client(), "mutuelle") == [("synthese", synthesis_id)]


def test_hidden_thread_synthesis_is_not_found_by_members(app, published):
    thread_id, synthesis_id = published
    with app.app_context():
        moderation.hide(
            user_named("modo"),
            db.session.get(Post, opening_post(app, thread_id).id),
            "Hors charte.",
        )
        assert db.session.get(Thread, thread_id).hidden_at is not None
    member = app.test_client()
    login(member, "lecteur")
    assert results(member, "mutuelle") == []
    assert results(app.test_client(), "mutuelle") == []
    moderator = app.test_client()
    login(moderator, "modo")
    assert results(moderator, "mutuelle") == [("synthese", synthesis_id)]


def user_named_id(app, username: str):
    with app.app_context():
        user = user_named(username)
        db.session.expunge(user)
        return user
