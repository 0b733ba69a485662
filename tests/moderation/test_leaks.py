"""Hidden content never leaks through search or feeds, for anyone but moderators."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_reply, make_thread, make_user


@pytest.fixture
def hidden(app):
    """A thread with one visible reply and one hidden by a moderator."""
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, title="Les régies de quartier", body="Ouverture du fil.")
    make_reply(app, alice, thread, body="Un message visible sur les coopératives.")
    secret = make_reply(app, alice, thread, body="Un propos injurieux zanzibarque.")
    moderator = app.test_client()
    moderator.post_form("/auth/login", {"login": "modo", "password": PASSWORD})
    response = moderator.post_form(f"/posts/{secret.id}/hide", {"reason": "Propos injurieux"})
    assert response.status_code in (302, 303)
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
    thread, _secret, _moderator = hidden
    feed = client.get(f"/feeds/threads/{thread.id}.atom").get_data(as_text=True)
    assert "zanzibarque" not in feed
    assert "coopératives" in feed
    for url in ("/feeds/latest.atom", "/feeds/themes/services-publics.atom"):
        assert "zanzibarque" not in client.get(url).get_data(as_text=True)
