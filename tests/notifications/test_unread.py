"""Unread tracking: "N nouveaux" on theme pages, the first-unread anchor, /unread, pages."""

from __future__ import annotations

import re

from sqlalchemy import event

from forum.extensions import db
from forum.notifications.models import ThreadState
from tests.factories import login, make_reply, make_thread, make_user


def theme_badges(client, slug: str = "services-publics") -> list[str]:
    page = client.get(f"/themes/{slug}").get_data(as_text=True)
    return re.findall(r'class="badge unread-badge[^"]*"[^>]*>([^<]+)<', page)


def test_theme_page_marks_never_opened_then_new_posts(app, client, auth):
    _alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob)
    auth.login("alice")
    assert theme_badges(client) == ["Nouveau"]

    assert client.get(f"/threads/{thread.id}").status_code == 200
    assert theme_badges(client) == []

    make_reply(app, bob, thread)
    make_reply(app, bob, thread)
    assert theme_badges(client) == ["2 nouveaux"]
    # Anonymous visitors see no badge.
    auth.logout()
    assert theme_badges(client) == []


def test_thread_page_points_to_the_first_unread_post(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    make_reply(app, bob, thread)
    auth.login("alice")
    client.get(f"/threads/{thread.id}")
    first_new = make_reply(app, bob, thread)
    make_reply(app, bob, thread)

    response = client.get(f"/threads/{thread.id}/unread")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/posts/{first_new.id}"

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'href="#post-{first_new.id}"' in page
    assert page.count('class="badge new-post"') == 2
    # Read now: no marker, and the unread link goes to the thread.
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'class="badge new-post"' not in page
    assert client.get(f"/threads/{thread.id}/unread").headers["Location"] == (
        f"/threads/{thread.id}"
    )


def test_unread_lists_followed_threads_with_new_posts(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    mine = make_thread(app, alice, title="Mon fil suivi")
    other = make_thread(app, bob, title="Un fil que je ne suis pas")
    auth.login("alice")
    assert "Rien de neuf" in client.get("/unread").get_data(as_text=True)
    make_reply(app, bob, mine)
    make_reply(app, alice, other)  # now followed (replier)
    make_reply(app, bob, other)
    page = client.get("/unread").get_data(as_text=True)
    assert "Mon fil suivi" in page and "Un fil que je ne suis pas" in page
    assert "1 nouveau" in page
    client.get(f"/threads/{mine.id}")
    page = client.get("/unread").get_data(as_text=True)
    assert "Mon fil suivi" not in page


def test_reading_across_pages(make_app):
    app = make_app(FORUM_POSTS_PER_PAGE=5)
    client = app.test_client()
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob)
    for _ in range(11):  # 12 posts: three pages
        make_reply(app, bob, thread)
    login(client, "alice")

    def unread() -> int:
        with app.app_context():
            state = db.session.get(ThreadState, (alice.id, thread.id))
            return 12 - (state.read_count if state else 0)

    assert unread() == 12
    client.get(f"/threads/{thread.id}")
    assert unread() == 7
    client.get(f"/threads/{thread.id}?page=3")  # pages read out of order: no jump ahead
    assert unread() == 7
    client.get(f"/threads/{thread.id}?page=2")
    assert unread() == 2
    client.get(f"/threads/{thread.id}?page=3")
    assert unread() == 0


def test_one_write_at_most_per_page_view_and_none_when_nothing_new(app, client, auth):
    _alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob)
    make_reply(app, bob, thread)
    auth.login("alice")

    def writes() -> int:
        statements = []

        def record(_conn, _cursor, statement, *_args):
            if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(f"/threads/{thread.id}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    assert writes() == 1
    assert writes() == 0


def test_a_busy_database_does_not_fail_the_page(app, client, auth, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from forum.notifications import reading

    _alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob)
    auth.login("alice")
    real_upsert = reading.upsert

    def locked(session, model):
        if model is ThreadState:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real_upsert(session, model)

    monkeypatch.setattr(reading, "upsert", locked)
    assert client.get(f"/threads/{thread.id}").status_code == 200


def test_a_locked_sqlite_database_skips_the_read_position_quickly(make_app, database):
    """The page asks for the write lock with the short read-position timeout, not the 5 s one.

    How long such a page takes is measured by the benchmark (bench/locks.py), not here.
    """
    import sqlite3

    import pytest

    from forum.notifications.reading import READ_POSITION_BUSY_MS

    if database[0] != "sqlite":
        pytest.skip("SQLite locking only")
    app = make_app()  # the default busy timeout: 5 seconds
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob)
    client = app.test_client()
    login(client, "alice")
    waits: list[int] = []  # the busy timeout in force at each try to save a read position

    def record(_conn, cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO THREAD_STATES"):
            waits.append(cursor.connection.execute("PRAGMA busy_timeout").fetchone()[0])

    with app.app_context():
        engine = db.engine
    assert app.config["FORUM_SQLITE_BUSY_TIMEOUT_MS"] == 5000
    event.listen(engine, "before_cursor_execute", record)
    blocker = sqlite3.connect(database[1].removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = client.get(f"/threads/{thread.id}")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert waits == [READ_POSITION_BUSY_MS] and READ_POSITION_BUSY_MS <= 100
    with app.app_context():
        assert db.session.get(ThreadState, (alice.id, thread.id)) is None
    client.get(f"/threads/{thread.id}")  # the lock is gone: the position is saved again
    with app.app_context():
        assert db.session.get(ThreadState, (alice.id, thread.id)).read_count == 1
