"""Fixtures: the app on each database, clients with CSRF, auth, query counting.

Every test that uses ``app`` runs once on a real SQLite file and once on
PostgreSQL when ``FORUM_TEST_DATABASE_URL`` names a server (the same suite,
the same code path). Without PostgreSQL or Chromium, those tests skip with the
reason, unless ``FORUM_REQUIRE_SERVICES=1``, which turns the skip into a
failure. The schema is built once per database by the Alembic migrations;
between tests every table is emptied and the founding themes put back.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, insert, make_url, select, text
from werkzeug.routing import Rule

from forum import create_app
from forum.discussions.models import Theme
from forum.extensions import db, limiter
from tests.factories import login as checked_login

REQUIRE_SERVICES = os.environ.get("FORUM_REQUIRE_SERVICES") == "1"
# Under pytest-xdist each worker ("gw0", "gw1"…) has a PostgreSQL database and a Redis
# database of its own: forum_test_gw1 next to forum_test, Redis database 0 + 1.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_worker_database(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def _per_worker_redis(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    base, _, number = url.rstrip("/").rpartition("/")
    if not number.isdigit():
        base, number = url.rstrip("/"), "0"
    return f"{base}/{int(number) + int(WORKER.removeprefix('gw'))}"


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per process, not once per app.

    Every test builds an app, and werkzeug compiles two builder functions per rule
    (162 rules: most of ``create_app``'s 0.14 s). A builder depends only on the rule's
    parsed parts, defaults and converter types, so apps of one run can share them.
    """
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    builders: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        key = (
            append_unknown,
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            tuple((name, type(conv)) for name, conv in self._converters.items()),
        )
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    shared.shared = True
    Rule._compile_builder = shared


_share_url_builders()
PG_URL = _per_worker_database(os.environ.get("FORUM_TEST_DATABASE_URL"))
REDIS_URL = _per_worker_redis(os.environ.get("FORUM_TEST_REDIS_URL"))
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'type="hidden" name="csrf_token" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')  # fmt: skip


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (FORUM_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def base_config(database_url: str, instance_path: str, **overrides) -> dict:
    config = {
        "FORUM_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FORUM_RATE_LIMITS": "off",
        "SERVER_NAME": None,
        # Pages read live; the page cache's own tests turn it on.
        "FORUM_PAGE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    os.environ["FORUM_INSTANCE_PATH"] = instance_path
    return config


class ForumClient(FlaskClient):
    """A test client that fills in the CSRF token of the session it carries."""

    def csrf_token(self) -> str:
        page = self.get("/auth/login").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on /auth/login"
        return next(group for group in match.groups() if group)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _worker_database() -> None:
    """Create this xdist worker's PostgreSQL database, from the one the run was given."""
    if not PG_URL or not WORKER:
        return
    name = make_url(PG_URL).database
    engine = create_engine(os.environ["FORUM_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(
                    text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
                )
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[tuple[str, str, str, list[dict]]]:
    """A migrated database per backend: (kind, url, instance path, founding themes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'forum.sqlite3'}"
    else:
        if not PG_URL:
            skip_or_fail("PostgreSQL not configured: set FORUM_TEST_DATABASE_URL")
        url = PG_URL
    instance = str(tmp_path_factory.mktemp("instance"))
    app = create_app(base_config(url, instance))
    with app.app_context():
        if request.param == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        themes = [
            {c.name: getattr(t, c.name) for c in Theme.__table__.columns}
            for t in db.session.execute(select(Theme)).scalars()
        ]
        db.session.remove()
        db.engine.dispose()
    yield request.param, url, instance, themes


@functools.cache
def _emptying_script() -> str:
    """DELETE from every table, children first, as one script (one round trip)."""
    return ";".join(f"DELETE FROM {table.name}" for table in reversed(db.metadata.sorted_tables))


def _reset(themes: list[dict]) -> None:
    """Empty every table and put the founding themes back."""
    # DELETE rather than TRUNCATE: a test leaves a few rows in a few tables, and
    # PostgreSQL's TRUNCATE of every table costs a quarter of a second.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(_emptying_script()))
        db.session.execute(
            text(
                "SELECT setval(oid, 1, false) FROM pg_class"
                " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
            )
        )
    else:  # sqlite3 runs one statement per execute
        for statement in _emptying_script().split(";"):
            db.session.execute(text(statement))
    db.session.execute(insert(Theme), themes)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('themes', 'id'), max(id)) FROM themes")
        )
    db.session.commit()


@pytest.fixture
def make_app(database) -> Iterator:
    """Build an app on this test's database with extra settings; tables start clean."""
    _kind, url, instance, themes = database
    apps: list[Flask] = []

    def factory(**overrides) -> Flask:
        app = create_app(base_config(url, instance, **overrides))
        app.test_client_class = ForumClient
        if not apps:
            with app.app_context():
                _reset(themes)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            if app.config["RATELIMIT_ENABLED"]:
                limiter.reset()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app) -> ForumClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: ForumClient) -> None:
        self.client = client

    def login(self, login: str, password: str | None = None):
        """With the factories' password (the default) the login must go through."""
        if password is not None:
            return self.client.post_form("/auth/login", {"login": login, "password": password})
        return checked_login(self.client, login)

    def logout(self):
        return self.client.post_form("/auth/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def query_counter(app):
    """``with query_counter() as counter:`` counts the SQL statements run inside."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(_conn, _cursor, statement, *_args):
            if statement.lstrip().split(None, 1)[0].upper() in {
                "SELECT", "INSERT", "UPDATE", "DELETE", "WITH",
            }:  # fmt: skip
                counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture(params=["memory", "redis"])
def redis_url(request) -> Iterator[str | None]:
    """Where limits and caches live: None (each app's memory) or the test Redis, emptied.

    Parametrized: a test taking it runs once without Redis and once with it
    (``FORUM_TEST_REDIS_URL``, e.g. ``redis://127.0.0.1:6379/6``; skipped without it,
    a failure under ``FORUM_REQUIRE_SERVICES=1``).
    """
    if request.param == "memory":
        yield None
        return
    if not REDIS_URL:
        skip_or_fail("Redis not configured: set FORUM_TEST_REDIS_URL")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()
