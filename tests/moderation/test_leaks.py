"""Hidden content never leaks through search or feeds, for anyone but moderators."""

from __future__ import annotations

import pytest

from forum.discussions.models import Post
from forum.extensions import db
from tests.factories import assert_redirect, login, make_reply, make_thread, make_user, opening_post


@pytest.fixture
def hidden(app):
    """A thread with one visible reply and one hidden by a moderator."""
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, title="Les régies de quartier", body="Ouverture du fil.")
    make_reply(app, alice, thread, body="Un message visible sur les coopératives.")
    secret = make_reply(app, alice, thread, body="Un propos injurieux zanzibarque.")
    moderator = app.test_client()
    login(moderator, "modo")
    response = moderator.post_form(f"/posts/{secret.id}/hide", {"reason": "Propos injurieux"})
    assert_redirect(response)
    with app.app_context():
        assert db.session.get(Post, secret.id).hidden_at is not None
    return thread, secret, moderator


def test_hidden_post_absent_from_search(client, hidden):
    _thread, secret, _moderator = hidden
    page = client.get("/search?q=zanzibarque").get_data(as_text=True)
    results = page.split('class="search-count"', 1)[1]
    assert "zanzibarque" not in results.split("</main>", 1)[0]
    assert f'result-message-{secret.id}"' not in page
    assert "0 résultat" in page
    # The visible reply of the same thread is still found.
    assert "coopératives" in client.get("/search?q=cooperatives").get_data(as_text=True)


def test_hidden_post_absent_from_feeds(client, hidden):
    # Replies appear only in their thread's feed (the others carry opening posts).
    thread, _secret, _moderator = hidden
    feed = client.get(f"/feeds/threads/{thread.id}.atom").get_data(as_text=True)
    assert "zanzibarque" not in feed
    assert "coopératives" in feed


def test_hidden_opening_post_absent_from_the_feeds_of_threads(app, client):
    """The latest and theme feeds carry opening posts: hidden, one leaves them."""
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    make_thread(app, alice, title="Un fil qui reste", body="Une ouverture visible.")
    thread = make_thread(app, alice, title="Un fil masqué", body="Une ouverture quetzalcoatlesque.")
    feeds = ("/feeds/latest.atom", "/feeds/themes/services-publics.atom")
    for url in feeds:  # before: both openings are carried
        assert "quetzalcoatlesque" in client.get(url).get_data(as_text=True), url
    moderator = app.test_client()
    login(moderator, "modo")
    opening = opening_post(app, thread)
    response = moderator.post_form(f"/posts/{opening.id}/hide", {"reason": "Hors charte"})
    assert_redirect(response)
    for url in feeds:
        feed = client.get(url).get_data(as_text=True)
        assert "quetzalcoatlesque" not in feed and "Un fil masqué" not in feed, url
        assert "Une ouverture visible." in feed, url
    assert "quetzalcoatlesque" not in client.get(f"/feeds/threads/{thread.id}.atom").get_data(
        as_text=True
    )
