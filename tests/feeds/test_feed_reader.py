"""A feed is a public document: built as an anonymous reader sees the forum, whoever asks."""

from __future__ import annotations

import feedparser

from forum.accounts.models import User
from forum.discussions.models import Post
from forum.extensions import db
from forum.moderation import services as moderation
from forum.moderation import words
from tests.factories import PASSWORD, make_reply, make_thread, make_user, opening_post


def _titles_and_texts(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    return " ".join(
        entry.title + " " + (entry.content[0].value if "content" in entry else "")
        for entry in feed.entries
    )


def test_a_moderator_logged_in_gets_the_public_feeds(app, client):
    alice = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    public = make_thread(app, alice, "urbain", "Un fil public", "Un texte pour tout le monde.")
    secret = make_thread(app, alice, "urbain", "Un fil masqué", "Un texte retiré.")
    hidden = make_reply(app, alice, public, body="Une réponse masquée par la modération.")
    with app.app_context():
        words.add(db.session.get(User, modo.id), "vote payé", "review")
        moderator = db.session.get(User, modo.id)
        moderation.hide(moderator, db.session.get(Post, opening_post(app, secret).id), "spam")
        moderation.hide(db.session.get(User, modo.id), db.session.get(Post, hidden.id), "abus")
    pending = make_reply(app, alice, public, body="Une réponse en attente : vote payé.")
    with app.app_context():
        assert db.session.get(Post, pending.id).pending_at is not None

    client.post_form("/auth/login", {"login": "modo", "password": PASSWORD})
    # The moderator does see all of it on the site…
    page = client.get(f"/threads/{public.id}").get_data(as_text=True)
    assert "Une réponse masquée" in page and "vote payé" in page
    # …never in the feeds.
    for url in ("/feeds/latest.atom", "/feeds/themes/urbain.atom"):
        text = _titles_and_texts(client, url)
        assert "Un fil public" in text
        assert "Un fil masqué" not in text and "Un texte retiré" not in text
    text = _titles_and_texts(client, f"/feeds/threads/{public.id}.atom")
    assert "Un texte pour tout le monde" in text
    assert "Une réponse masquée" not in text and "vote payé" not in text
    assert client.get(f"/feeds/threads/{secret.id}.atom").status_code == 404
