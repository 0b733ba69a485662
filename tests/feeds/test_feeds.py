"""Atom feeds parsed by feedparser: valid, absolute links, stable ids, public content only."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.extensions import db
from tests.factories import login, make_reply, make_thread, make_user, opening_post


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


@pytest.fixture
def content(app):
    alice = make_user(app, "alice")
    first = make_thread(
        app, alice, "urbain", "Rénover sans chasser les habitant·es", "Premier <em>texte</em>."
    )
    second = make_thread(
        app, alice, "services-publics", "La poste du village", "Un **bureau** fermé."
    )
    return alice, first, second


def test_latest_feed(client, content):
    _alice, first, second = content
    feed = parse(client, "/feeds/latest.atom")
    assert feed.feed.title.endswith("nouveaux fils")
    assert [e.title for e in feed.entries] == [second.title, first.title]
    entry = feed.entries[0]
    assert entry.id == f"http://localhost/threads/{second.id}"
    assert entry.link == f"http://localhost/threads/{second.id}"
    assert entry.author == "alice"
    assert "<strong>bureau</strong>" in entry.content[0].value
    assert entry.updated_parsed is not None
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "http://localhost/feeds/latest.atom"
    assert links["alternate"] == "http://localhost/"


def test_theme_feed(client, content):
    _alice, first, _second = content
    feed = parse(client, "/feeds/themes/urbain.atom")
    assert [e.title for e in feed.entries] == [first.title]
    assert client.get("/feeds/themes/inconnu.atom").status_code == 404
    assert parse(client, "/feeds/themes/developpement-local.atom").entries == []


def test_thread_feed_excludes_deleted_posts(app, client, content):
    alice, first, _second = content
    kept = make_reply(app, alice, first, body="Une réponse qui reste.")
    gone = make_reply(app, alice, first, body="Une réponse supprimée.")
    with app.app_context():
        post = db.session.get(Post, gone.id)
        discussions.delete_post(post.author, post)
    feed = parse(client, f"/feeds/threads/{first.id}.atom")
    ids = [e.id for e in feed.entries]
    opening = opening_post(app, first)
    assert ids == [f"http://localhost/posts/{kept.id}", f"http://localhost/posts/{opening.id}"]
    assert "supprimée" not in client.get(f"/feeds/threads/{first.id}.atom").get_data(as_text=True)
    assert feed.entries[0].title == "Réponse de alice"
    assert client.get("/feeds/threads/999999.atom").status_code == 404
    assert client.get("/feeds/threads/99999999999.atom").status_code == 404


def test_deleted_opening_post_has_no_content(app, client, content):
    _alice, first, _second = content
    with app.app_context():
        post = db.session.get(Post, opening_post(app, first).id)
        discussions.delete_post(post.author, post)
    feed = parse(client, "/feeds/latest.atom")
    entry = next(e for e in feed.entries if e.title == first.title)
    assert "content" not in entry


def test_updated_dates_are_utc(app, client, content):
    feed = parse(client, "/feeds/latest.atom")
    raw = client.get("/feeds/latest.atom").get_data(as_text=True)
    assert "+00:00</updated>" in raw
    newest = datetime(*feed.entries[0].updated_parsed[:6], tzinfo=UTC)
    assert abs((datetime.now(UTC) - newest).total_seconds()) < 120


def test_empty_feed_is_valid(client):
    assert parse(client, "/feeds/latest.atom").entries == []


def test_autodiscovery_links(client, content):
    _alice, first, _second = content
    pages = {
        "/": "/feeds/latest.atom",
        "/themes/urbain": "/feeds/themes/urbain.atom",
        f"/threads/{first.id}": f"/feeds/threads/{first.id}.atom",
    }
    for page, href in pages.items():
        html = client.get(page).get_data(as_text=True)
        assert 'type="application/atom+xml"' in html and f'href="{href}"' in html, page


def test_feed_query_counts_are_constant(app, client, content, query_counter):
    alice, first, _second = content
    for n in range(5):
        make_thread(app, alice, "urbain", f"Encore un fil urbain n°{n}")
        make_reply(app, alice, first, body=f"Réponse n°{n}")
    with query_counter() as latest:
        client.get("/feeds/latest.atom")
    with query_counter() as theme:
        client.get("/feeds/themes/urbain.atom")
    with query_counter() as thread:
        client.get(f"/feeds/threads/{first.id}.atom")
    assert latest.count == 2  # threads with theme and author, their opening posts
    assert theme.count == 3  # + the theme
    assert thread.count == 2  # the thread, its posts with authors


def test_seminars_feed_lists_published_seminars_only(app, client):
    from tests.seminars.test_seminars import make_seminar

    organiser = make_user(app, "orga", role="admin")
    later = make_seminar(
        app, organiser, days=60, title="Séminaire d'automne", description="Des **ateliers**."
    )
    sooner = make_seminar(app, organiser, days=10, title="Séminaire de printemps")
    make_seminar(app, organiser, status="draft", title="Brouillon secret")
    feed = parse(client, "/feeds/seminars.atom")
    assert feed.feed.title.endswith("séminaires")
    assert [e.title for e in feed.entries] == ["Séminaire d'automne", "Séminaire de printemps"]
    autumn = feed.entries[0]
    assert autumn.link == f"http://localhost/seminars/{later}"
    assert autumn.id == autumn.link
    assert "<strong>ateliers</strong>" in autumn.content[0].value
    assert "Amphithéâtre" in autumn.content[0].value
    assert autumn.updated_parsed is not None
    assert feed.entries[1].id == f"http://localhost/seminars/{sooner}"
    assert "Brouillon" not in client.get("/feeds/seminars.atom").get_data(as_text=True)
    # Drafts stay out even for an organiser's session: the feed is public.
    login(client, "orga")
    assert "Brouillon" not in client.get("/feeds/seminars.atom").get_data(as_text=True)
    page = client.get("/seminars/").get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feeds/seminars.atom"' in page
