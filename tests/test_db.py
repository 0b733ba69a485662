"""Both databases: migrations match the models, SQLite settings, concurrency, locks."""

from __future__ import annotations

import importlib
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.pool import NullPool

from forum.accounts.models import User
from forum.db import end_reads, reads_first, retry_on_deadlock
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.search.models import include_object
from tests.factories import login, make_thread, make_user


def test_migrations_match_models(app):
    """``flask db upgrade`` on an empty database gives exactly the models' schema."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, db.metadata) == []


def test_founding_themes_exist_after_upgrade(app):
    with app.app_context():
        slugs = db.session.execute(select(Theme.slug).order_by(Theme.position)).scalars().all()
    assert slugs == ["services-publics", "urbain", "developpement-local"]


def test_sqlite_connection_settings(app, database):
    if database[0] != "sqlite":
        pytest.skip("SQLite settings only")
    with app.app_context():
        pragma = lambda name: db.session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000
        assert pragma("synchronous") == 1  # NORMAL


def test_concurrent_replies_keep_tree_and_counters_exact(app):
    """Writers at the same instant: every reply stored once, paths unique, counters exact."""
    writers, each = 6, 5
    users = [make_user(app, f"ecrivain{i}") for i in range(writers)]
    thread = make_thread(app, users[0])
    errors: list[str] = []
    barrier = threading.Barrier(writers, timeout=30)

    def write(username: str) -> None:
        client = app.test_client()
        login(client, username)
        token = client.csrf_token()
        barrier.wait()
        for n in range(each):
            response = client.post(
                f"/threads/{thread.id}/reply",
                data={"body": f"Réponse {n} de {username}", "csrf_token": token},
            )
            if response.status_code != 302:
                errors.append(f"{username}: {response.status_code}")

    workers = [threading.Thread(target=write, args=(u.username,)) for u in users]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    with app.app_context():
        paths = db.session.execute(select(Post.path).where(Post.thread_id == thread.id)).all()
        stored = db.session.get(Thread, thread.id)
        assert len(paths) == writers * each + 1
        assert len(set(paths)) == len(paths)
        assert stored.reply_count == writers * each
        theme_posts = db.session.execute(select(func.sum(Theme.post_count))).scalar()
        assert theme_posts == writers * each + 1


def test_sqlite_lock_beyond_timeout_answers_503(make_app, database, tmp_path):
    if database[0] != "sqlite":
        pytest.skip("SQLite locking only")
    app = make_app(FORUM_SQLITE_BUSY_TIMEOUT_MS=200)
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    client = app.test_client()
    login(client, "alice")
    token = client.csrf_token()

    path = database[1].removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(
            f"/threads/{thread.id}/reply", data={"body": "Bloquée ?", "csrf_token": token}
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Traceback" not in response.get_data(as_text=True)
    # Nothing half-written, and the forum works again once the lock is gone.
    with app.app_context():
        assert db.session.get(Thread, thread.id).reply_count == 0
    response = client.post(
        f"/threads/{thread.id}/reply", data={"body": "Débloquée.", "csrf_token": token}
    )
    assert response.status_code == 302


def _write_lock_free(path: str) -> bool:
    """Whether another connection could take SQLite's write lock right now."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_reads_first_takes_the_write_lock_at_the_first_write(app, database):
    if database[0] != "sqlite":
        pytest.skip("SQLite locking only")
    path = database[1].removeprefix("sqlite:///")
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    with app.app_context(), reads_first():
        assert db.session.get(Thread, thread.id).reply_count == 0
        assert _write_lock_free(path)  # reading holds nothing
        db.session.execute(
            update(Thread).where(Thread.id == thread.id).values(reply_count=Thread.reply_count + 1)
        )
        assert not _write_lock_free(path)  # from the first write to the commit
        assert db.session.execute(select(Thread.reply_count)).scalar() == 1
        db.session.commit()
        assert _write_lock_free(path)
    with app.app_context():
        assert db.session.get(Thread, thread.id).reply_count == 1


def test_reads_first_rolls_back_whole(app, database):
    """Everything from the first write on is one transaction: a rollback leaves nothing."""
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    with app.app_context(), reads_first():
        db.session.get(Thread, thread.id)
        db.session.execute(update(Thread).values(reply_count=Thread.reply_count + 1))
        db.session.execute(update(Thread).values(title="Titre remplacé"))
        db.session.rollback()
    with app.app_context():
        stored = db.session.get(Thread, thread.id)
        assert (stored.reply_count, stored.title) == (0, thread.title)


def test_postgresql_pages_keep_their_prepared_statements(app, client, database):
    """A request that only read ends with a COMMIT: psycopg forgets its prepared
    statements at every ROLLBACK, so a page's statements were parsed and planned anew on
    every request. A transaction that wrote is still left to the rollback."""
    if database[0] != "postgresql":
        pytest.skip("psycopg's prepared statements")
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    with app.app_context():
        engine = db.engine
    ends: list[str] = []
    connections = set()
    listeners = {
        "commit": lambda conn: ends.append("commit"),
        "rollback": lambda conn: ends.append("rollback"),
        "checkout": lambda dbapi, _record, _proxy: connections.add(dbapi),
    }
    for name, listener in listeners.items():
        event.listen(engine.pool if name == "checkout" else engine, name, listener)
    try:
        for _ in range(6):  # psycopg prepares a statement at its fifth run
            assert client.get(f"/threads/{thread.id}").status_code == 200
        # Search's statements begin with WITH: reads too.
        assert client.get("/search", query_string={"q": "débat"}).status_code == 200
    finally:
        for name, listener in listeners.items():
            event.remove(engine.pool if name == "checkout" else engine, name, listener)
    assert ends == ["commit"] * 7
    (connection,) = connections
    prepared = connection.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    connection.commit()
    assert any("FROM threads" in statement for (statement,) in prepared)

    # What a request loaded stays readable after it, as the session's removal leaves it.
    with app.test_request_context("/"):
        kept = db.session.get(Thread, thread.id)
        end_reads(None)
        db.session.remove()
    assert kept.title == thread.title

    # A transaction that wrote is left to the rollback of a failed request.
    with app.test_request_context("/"):
        db.session.execute(update(Thread).values(title="Titre remplacé"))
        end_reads(None)
        db.session.rollback()
    with app.app_context():
        assert db.session.get(Thread, thread.id).title == thread.title


def _pooled_backend(app, client, path: str) -> tuple[object, int]:
    """The connection a request ran on (back in the pool) and its server process."""
    with app.app_context():
        engine = db.engine
    used = []
    listener = lambda dbapi, _record, _proxy: used.append(dbapi)  # noqa: E731
    event.listen(engine.pool, "checkout", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine.pool, "checkout", listener)
    return used[-1], used[-1].info.backend_pid


@contextmanager
def _another_connection(database):
    """A connection outside the forum's pool."""
    engine = create_engine(database[1], poolclass=NullPool)
    try:
        with engine.connect() as other:
            yield other
    finally:
        engine.dispose()


def _backend_state_change(database, pid: int):
    with _another_connection(database) as other:
        return other.execute(
            text("SELECT state_change FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()


def test_postgresql_pooled_connections_are_checked_without_a_round_trip(
    app, client, database, monkeypatch
):
    """A connection back from the pool is not pinged while the server has said nothing:
    its server process sees no statement between two requests' own. One that sat idle
    too long is."""
    if database[0] != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    thread = make_thread(app, make_user(app, "alice"))
    path = f"/threads/{thread.id}"
    connection, pid = _pooled_backend(app, client, path)
    before = _backend_state_change(database, pid)
    with app.app_context():
        checked = db.engine.raw_connection()  # the same pooled connection, checked out
        assert checked.dbapi_connection is connection
        checked.close()
    assert _backend_state_change(database, pid) == before  # no SELECT 1 reached the server

    # forum.db the module (the package's ``db`` is the extension)
    monkeypatch.setattr(importlib.import_module("forum.db"), "PING_AFTER_IDLE_S", 0.0)
    with app.app_context():
        db.engine.raw_connection().close()
    assert _backend_state_change(database, pid) > before  # pinged


def test_postgresql_a_connection_the_server_closed_is_replaced(app, client, database):
    """A server restart or ``pg_terminate_backend`` closes the pooled connection: the next
    request gets a new one instead of an error."""
    if database[0] != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    thread = make_thread(app, make_user(app, "alice"))
    path = f"/threads/{thread.id}"
    _connection, pid = _pooled_backend(app, client, path)
    with _another_connection(database) as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        for _ in range(200):  # the server process ends soon after the signal
            gone = other.execute(
                text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            other.commit()
            if gone:
                break
            time.sleep(0.01)
    _connection, new_pid = _pooled_backend(app, client, path)
    assert new_pid != pid


def test_the_reply_view_reads_first():
    """Its service checks and renders before the first write (forum.discussions.services)."""
    from forum.discussions.views import reply

    assert reply.forum_reads_first


def test_a_writer_takes_the_lock_soon_after_it_is_released(app, database):
    """It keeps trying (without failing) and takes the lock at its first try after the release.

    The other writer lets go at the writer's third try; the busy timeout is as before.
    How long that takes is measured by the benchmark (bench/locks.py), not here.
    """
    if database[0] != "sqlite":
        pytest.skip("SQLite locking only")
    path = database[1].removeprefix("sqlite:///")
    thread = make_thread(app, make_user(app, "alice"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    events: list[str] = []

    def trace(statement: str) -> None:
        if statement == "BEGIN IMMEDIATE":
            events.append("try")
            if events.count("try") == 3:
                blocker.execute("ROLLBACK")
                events.append("released")

    with app.app_context(), reads_first():
        timeout = db.session.execute(text("PRAGMA busy_timeout")).scalar()
        connection = db.session.connection().connection.dbapi_connection
        connection.set_trace_callback(trace)
        try:
            db.session.execute(update(Thread).values(reply_count=Thread.reply_count + 1))
            events.append("wrote")
        finally:
            connection.set_trace_callback(None)
        db.session.commit()
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == timeout
    blocker.close()
    assert events == ["try", "try", "try", "released", "wrote"]
    with app.app_context():
        assert db.session.get(Thread, thread.id).reply_count == 1


def test_a_service_aborted_by_a_deadlock_runs_again(app, database):
    """Two writers lock two rows in opposite orders: PostgreSQL aborts one; run through
    retry_on_deadlock, both end up written."""
    if database[0] != "postgresql":
        pytest.skip("PostgreSQL deadlocks only")
    first, second = make_user(app, "premiere"), make_user(app, "seconde")
    barrier = threading.Barrier(2, timeout=30)
    calls: list[str] = []
    errors: list[BaseException] = []

    def service(name: str, ids: tuple[int, int]) -> None:
        calls.append(name)
        for n, user_id in enumerate(ids):
            db.session.execute(
                update(User).where(User.id == user_id).values(bio=User.bio + name[0])
            )
            if n == 0 and calls.count(name) == 1:
                barrier.wait()  # both hold their first row: each now waits on the other's
        db.session.commit()

    def run(name: str, ids: tuple[int, int]) -> None:
        try:
            with app.app_context():
                retry_on_deadlock(service, name, ids)
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=run, args=("alpha", (first.id, second.id))),
        threading.Thread(target=run, args=("beta", (second.id, first.id))),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert len(calls) == 3  # one of the two ran twice
    with app.app_context():
        bios = {db.session.get(User, user.id).bio for user in (first, second)}
        assert all(sorted(bio[-2:]) == ["a", "b"] for bio in bios)


def test_two_replies_that_notify_each_others_authors_do_not_deadlock(app, database, caplog):
    """alice answers bruno's thread while bruno answers hers, in one theme: each reply
    moves its author's post count, the other's unread count and the theme's counters.
    Both hold on after their first write to the members' rows: taken in one order (by
    id, in one statement, then the theme), the second waits for the first instead of
    holding a row the first needs; PostgreSQL has no deadlock to break."""
    if database[0] != "postgresql":
        pytest.skip("PostgreSQL deadlocks only")
    from sqlalchemy import event

    from forum.discussions import services

    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    threads = {"alice": make_thread(app, bruno), "bruno": make_thread(app, alice)}
    holding = {name: threading.Event() for name in threads}
    local = threading.local()
    errors: list[BaseException] = []

    def hold_on(_conn, _cursor, statement: str, *_args) -> None:
        name = getattr(local, "name", None)
        if name and statement.startswith("UPDATE users") and not holding[name].is_set():
            holding[name].set()
            other = "bruno" if name == "alice" else "alice"
            holding[other].wait(2)  # the other holds its rows too, or waits for ours

    def run(name: str) -> None:
        local.name = name
        try:
            with app.app_context():
                author = db.session.execute(select(User).where(User.username == name)).scalar_one()
                thread = db.session.get(Thread, threads[name].id)
                retry_on_deadlock(services.reply, author, thread, f"Réponse de {name}.")
        except BaseException as exc:
            errors.append(exc)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", hold_on)
    try:
        workers = [threading.Thread(target=run, args=(name,)) for name in threads]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", hold_on)
    assert errors == []
    assert all(holding[name].is_set() for name in threads)
    assert not [r for r in caplog.records if r.getMessage().startswith("deadlock in")]
    with app.app_context():
        counts = dict(db.session.execute(select(User.username, User.unread_notifications)).all())
        posts = dict(db.session.execute(select(User.username, User.post_count)).all())
    assert counts == {"alice": 1, "bruno": 1} and posts == {"alice": 2, "bruno": 2}


def test_postgresql_compresses_long_post_texts_with_lz4(app, database):
    """The posts' texts (and the other long texts pages read) are stored compressed with
    LZ4, several times quicker to read back than PostgreSQL's default pglz."""
    if database[0] != "postgresql":
        pytest.skip("PostgreSQL's compression of long values")
    with app.app_context():
        lz4 = db.session.scalar(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            )
        )
    if not lz4:
        pytest.skip("this PostgreSQL was built without LZ4: the migration leaves pglz")
    alice = make_user(app, "alice")
    # Varied enough to compress, long enough (over 2 KB a row) to be compressed.
    body = " ".join(f"Le logement social n°{n} dans la commune." for n in range(150))
    thread = make_thread(app, alice, body=body)
    with app.app_context():
        found = db.session.execute(
            text(
                "SELECT pg_column_compression(body_source), pg_column_compression(body_html)"
                " FROM posts WHERE thread_id = :id"
            ),
            {"id": thread.id},
        ).one()
    assert tuple(found) == ("lz4", "lz4")
