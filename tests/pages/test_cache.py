"""The anonymous page cache: served from the store, never older than the last commit.

Each kind of write that changes an anonymous page is made right after that page was
served from the cache: the next anonymous read shows the change. Two app instances
sharing one database (and one Redis, or each its own memory) stand for two nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import cache, db
from forum.moderation import reports
from forum.moderation import services as moderation
from forum.news import services as news
from forum.pages.cache import BoundedMemoryCache, Entry
from forum.seminars import services as seminars
from forum.seminars.models import Session
from tests.factories import PASSWORD, make_reply, make_thread, make_user

CACHED = {"FORUM_PAGE_CACHE_SECONDS": 60}


@dataclass
class World:
    admin: int
    author: int
    thread: int
    reply: int
    other: int  # a second thread of the same theme


@pytest.fixture
def cached(make_app, redis_url):
    return make_app(FORUM_REDIS_URL=redis_url, **CACHED)


def build(app) -> World:
    admin = make_user(app, "coordination", role="admin")
    author = make_user(app, "autrice")
    thread = make_thread(app, author, "services-publics", "Le logement social en débat")
    reply = make_reply(app, admin, thread, body="Une réponse qui fera débat ici.")
    other = make_thread(
        app, admin, "services-publics", "Un autre fil à fusionner", "Texte du second fil."
    )
    return World(admin.id, author.id, thread.id, reply.id, other.id)


def read(client, url: str) -> tuple[int, str, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True), response.headers["X-Page-Cache"]


def warm(client, url: str) -> str:
    """Read ``url`` twice: the second answer comes from the cache."""
    read(client, url)
    status, body, state = read(client, url)
    assert (status, state) == (200, "hit"), url
    return body


def act(app, fn):
    with app.test_request_context():
        fn()


def _user(user_id):
    return db.session.get(User, user_id)


def _theme(slug):
    return db.session.execute(select(Theme).where(Theme.slug == slug)).scalar_one()


# -- the writes: (setup before warming, the write, [(url, shown, not shown)]) --------------


def _session_of_seminar():
    start = utcnow().replace(microsecond=0) + timedelta(days=20)
    organiser = db.session.execute(select(User).where(User.username == "coordination")).scalar()
    seminar = seminars.save_seminar(
        organiser,
        None,
        title="Séminaire des territoires",
        description="",
        venue="Salle des fêtes",
        address="1 place de la Mairie",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        capacity=None,
        registration_closes_at=None,
        status="published",
    )
    return seminars.save_session(
        organiser,
        seminar,
        None,
        title="Atelier mobilités",
        kind="workshop",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        room="Salle 2",
        theme=_theme("urbain"),
        speakers="",
        description="",
        capacity=None,
    )


def _report(w, usernames):
    post = db.session.get(Post, w.reply)
    for name in usernames:
        reporter = db.session.execute(select(User).where(User.username == name)).scalar_one()
        reports.report_post(reporter, db.session.get(Post, post.id), "spam", "")


def _pending(w):
    db.session.execute(update(Post).where(Post.id == w.reply).values(pending_at=utcnow()))
    db.session.commit()


def _hidden(w):
    moderation.hide(_user(w.admin), db.session.get(Post, w.reply), "Hors sujet")


THREAD = "/threads/{thread}"
THEME = "/themes/services-publics"

WRITES = {
    "reply": (
        None,
        lambda w: discussions.reply(
            _user(w.author), db.session.get(Thread, w.thread), "Toute nouvelle réponse."
        ),
        [
            (THREAD, "Toute nouvelle réponse.", None),
            ("/feeds/threads/{thread}.atom", "Toute nouvelle réponse.", None),
        ],
    ),
    "new thread": (
        None,
        lambda w: discussions.create_thread(
            _user(w.author), _theme("services-publics"), "Un fil tout neuf", "Ouvrons-le."
        ),
        [
            ("/", "Un fil tout neuf", None),
            (THEME, "Un fil tout neuf", None),
            ("/feeds/latest.atom", "Un fil tout neuf", None),
            ("/feeds/themes/services-publics.atom", "Un fil tout neuf", None),
        ],
    ),
    "edit": (
        None,
        lambda w: discussions.edit_post(
            _user(w.admin), db.session.get(Post, w.reply), "Réponse corrigée depuis."
        ),
        [(THREAD, "Réponse corrigée depuis.", "fera débat ici")],
    ),
    "delete": (
        None,
        lambda w: discussions.delete_post(_user(w.admin), db.session.get(Post, w.reply)),
        [(THREAD, None, "fera débat ici")],
    ),
    "hide": (None, _hidden, [(THREAD, None, "fera débat ici")]),
    "restore": (
        _hidden,
        lambda w: moderation.restore(_user(w.admin), db.session.get(Post, w.reply)),
        [(THREAD, "fera débat ici", None)],
    ),
    "approve": (
        _pending,
        lambda w: moderation.review_pending(
            _user(w.admin), db.session.get(Post, w.reply), True, ""
        ),
        [(THREAD, "fera débat ici", None)],
    ),
    "hidden by reports": (
        lambda w: _report(w, ["lecteur1", "lecteur2"]),
        lambda w: _report(w, ["lecteur3"]),
        [(THREAD, None, "fera débat ici")],
    ),
    "report upheld": (
        lambda w: _report(w, ["lecteur1"]),
        lambda w: reports.decide_post(
            _user(w.admin), db.session.get(Post, w.reply), "hide", "Propos injurieux"
        ),
        [(THREAD, None, "fera débat ici")],
    ),
    "lock": (
        None,
        lambda w: moderation.lock(_user(w.admin), db.session.get(Thread, w.thread)),
        [(THREAD, "Ce fil est verrouillé", None), (THEME, "Verrouillé", None)],
    ),
    "pin": (
        None,
        lambda w: moderation.pin(_user(w.admin), db.session.get(Thread, w.thread)),
        [(THEME, "Épinglé", None)],
    ),
    "move": (
        None,
        lambda w: moderation.move(
            _user(w.admin), db.session.get(Thread, w.thread), _theme("urbain")
        ),
        [
            ("/themes/urbain", "Le logement social en débat", None),
            (THEME, None, "Le logement social en débat"),
            (THREAD, "Urbain", None),
        ],
    ),
    "merge": (
        None,
        lambda w: moderation.merge(
            _user(w.admin), db.session.get(Thread, w.other), db.session.get(Thread, w.thread)
        ),
        [(THREAD, "Texte du second fil.", None), (THEME, None, "Un autre fil à fusionner")],
    ),
    "split": (
        None,
        lambda w: moderation.split(
            _user(w.admin), db.session.get(Post, w.reply), "Une branche à part"
        ),
        [(THREAD, "Une branche de ce fil continue dans", "fera débat ici")],
    ),
    "split-off thread hidden": (
        lambda w: moderation.split(
            _user(w.admin), db.session.get(Post, w.reply), "Une branche à part"
        ),
        _hidden,  # the branch's first post is now its thread's opening post
        [(THREAD, None, "Une branche à part"), (THEME, None, "Une branche à part")],
    ),
    "theme renamed": (
        None,
        lambda w: discussions.save_theme(
            _user(w.admin),
            _theme("services-publics"),
            name="Services publics et communs",
            slug="services-publics",
            description="",
            position=1,
            archived=False,
        ),
        [(THREAD, "Services publics et communs", None), ("/", "Services publics et communs", None)],
    ),
    "news": (
        None,
        lambda w: news.publish(_user(w.admin), "Une actualité toute chaude", "Le détail."),
        [("/", "Une actualité toute chaude", None)],
    ),
    "seminar": (
        None,
        lambda w: _session_of_seminar(),
        [("/", "Séminaire des territoires", None)],
    ),
    "thread linked to a session": (
        lambda w: _session_of_seminar(),
        lambda w: seminars.link_thread(
            _user(w.admin),
            db.session.execute(select(Session)).scalar_one(),
            db.session.get(Thread, w.thread),
            "follow_up",
        ),
        [(THREAD, "Suite de la séance", None)],
    ),
}


@pytest.mark.parametrize("kind", list(WRITES))
def test_each_kind_of_write_shows_at_once_on_the_cached_anonymous_page(make_app, kind):
    app = make_app(**CACHED)
    w = build(app)
    for n in (1, 2, 3):
        make_user(app, f"lecteur{n}")
    setup, write, checks = WRITES[kind]
    if setup is not None:
        act(app, lambda: setup(w))
    client = app.test_client()
    urls = [url.format(thread=w.thread) for url, _shown, _hidden in checks]
    before = {url: warm(client, url) for url in urls}
    act(app, lambda: write(w))
    for url, (_pattern, shown, hidden) in zip(urls, checks, strict=True):
        status, body, state = read(client, url)
        assert (status, state) == (200, "miss"), (kind, url)
        if shown:
            assert shown not in before[url] and shown in body, (kind, url)
        if hidden:
            assert hidden in before[url] and hidden not in body, (kind, url)
        assert read(client, url)[2] == "hit"


def test_a_post_hidden_on_one_node_vanishes_from_the_other_at_once(make_app, redis_url):
    node_a = make_app(FORUM_REDIS_URL=redis_url, **CACHED)
    node_b = make_app(FORUM_REDIS_URL=redis_url, **CACHED)
    w = build(node_a)
    url = f"/threads/{w.thread}"
    reader_a, reader_b = node_a.test_client(), node_b.test_client()
    warm(reader_b, url)
    status, body, state = read(reader_a, url)
    # Redis: node B's stored page serves node A too; memory: each node keeps its own.
    assert state == ("hit" if redis_url else "miss")
    assert "fera débat ici" in body
    act(node_a, lambda: _hidden(w))
    status, body, state = read(reader_b, url)
    assert status == 200 and state == "miss"
    assert "fera débat ici" not in body
    assert read(reader_a, url)[2] == ("hit" if redis_url else "miss")
    # A reply on B shows at once on A's cached anonymous page.
    act(node_b, lambda: make_reply(node_b, w.author, w.thread, body="Réponse venue de B."))
    assert "Réponse venue de B." in read(reader_a, url)[1]


def test_members_get_the_live_page_and_it_is_never_stored(cached):
    w = build(cached)
    url = f"/threads/{w.thread}"
    member = cached.test_client()
    member.post_form("/auth/login", {"login": "autrice", "password": PASSWORD})
    for _ in range(2):
        response = member.get(url)
        assert response.headers["X-Page-Cache"] == "live"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Se déconnecter" in response.get_data(as_text=True)
    anonymous = cached.test_client()
    _status, body, state = read(anonymous, url)
    assert state == "miss" and "Se déconnecter" not in body


def test_a_response_with_a_flash_or_a_cookie_is_not_cached(cached):
    w = build(cached)
    url = f"/threads/{w.thread}"
    client = cached.test_client()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Vous êtes déconnecté·e.")]
    response = client.get(url)
    assert response.headers["X-Page-Cache"] == "live"
    assert "Vous êtes déconnecté·e." in response.get_data(as_text=True)
    # The flash was shown once: the next read is an ordinary anonymous one, not stored yet.
    assert read(client, url)[2] == "miss"
    assert read(client, url)[2] == "hit"
    # Query arguments other than the page number are served live.
    assert client.get(url + "?x=1").headers["X-Page-Cache"] == "live"
    # A remember-me cookie is a member's: live.
    client.set_cookie("remember_token", "1|abc")
    assert client.get(url).headers["X-Page-Cache"] == "live"


def test_conditional_requests_answer_304_until_the_page_changes(cached):
    w = build(cached)
    url = f"/threads/{w.thread}"
    client = cached.test_client()
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
    assert "Accept-Language" in first.headers["Vary"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    make_reply(cached, w.author, w.thread, body="Du nouveau dans le fil.")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Du nouveau dans le fil." in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_each_language_has_its_own_page(cached):
    w = build(cached)
    url = f"/threads/{w.thread}"
    client = cached.test_client()
    french = client.get(url, headers={"Accept-Language": "fr"})
    english = client.get(url, headers={"Accept-Language": "en"})
    assert english.headers["X-Page-Cache"] == "miss"
    assert english.headers["ETag"] != french.headers["ETag"]
    assert 'lang="en"' in english.get_data(as_text=True)


def test_missing_and_hidden_pages_are_not_stored(cached):
    w = build(cached)
    client = cached.test_client()
    for _ in range(2):  # looked for, not found, not stored
        missing = client.get("/threads/999999")
        assert (missing.status_code, missing.headers["X-Page-Cache"]) == (404, "live")
    act(cached, lambda: moderation.hide(
        _user(w.admin), db.session.execute(
            select(Post).where(Post.thread_id == w.thread, Post.parent_id.is_(None))
        ).scalar_one(), "Fil hors charte"))  # fmt: skip
    hidden = client.get(f"/threads/{w.thread}")
    assert (hidden.status_code, hidden.headers["X-Page-Cache"]) == (403, "live")


def test_the_page_cache_can_be_turned_off(make_app):
    app = make_app(FORUM_PAGE_CACHE_SECONDS=0)
    w = build(app)
    client = app.test_client()
    for _ in range(2):
        response = client.get(f"/threads/{w.thread}")
        assert response.headers["X-Page-Cache"] == "live"
        assert "ETag" not in response.headers


def test_each_worker_keeps_its_pages_in_memory_within_a_budget(make_app):
    """Without Redis: a worker's store drops the oldest pages to keep the newest within
    FORUM_PAGE_CACHE_MEMORY_MB, and keeps no page larger than that."""
    app = make_app(FORUM_PAGE_CACHE_MEMORY_MB=1, **CACHED)
    w = build(app)
    client = app.test_client()
    with app.app_context():
        store = cache.cache
    assert isinstance(store, BoundedMemoryCache) and store.budget == 1024 * 1024
    assert [read(client, f"/threads/{w.thread}")[2] for _ in range(2)] == ["miss", "hit"]
    assert store.stored_bytes() > 0
    for n in range(30):  # 3 MB of pages
        assert store.set(f"page-{n}", Entry(b"x" * 100_000, "text/html"), timeout=60)
        assert store.stored_bytes() <= store.budget
    kept = [n for n in range(30) if store.has(f"page-{n}")]
    assert kept == list(range(30 - len(kept), 30)) and len(kept) >= 9  # the newest
    assert read(client, f"/threads/{w.thread}")[2] == "miss"  # the oldest page went
    assert not store.set("too-large", Entry(b"x" * (store.budget + 1), "text/html"))
    assert store.get("too-large") is None and store.has("page-29")
