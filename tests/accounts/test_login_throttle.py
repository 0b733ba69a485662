"""Failed logins counted per account in the database: the 6th attempt within the window is
refused (429) whatever the address or the worker, even with the right password, until the
window passes; a success clears the count. Proven with real gunicorn and 4 workers."""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.accounts.services import LOGIN_FAILURES, LOGIN_WINDOW
from forum.db import utcnow
from forum.extensions import db, limiter
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
THROTTLED = "Trop de tentatives de connexion ont échoué sur ce compte"


@pytest.fixture
def limited(make_app):
    app = make_app(FORUM_RATE_LIMITS="default")
    with app.app_context():
        limiter.reset()
    return app


def _attempt(app, password: str, n: int):
    """One login from its own client and address (the per-address limit stays out of it)."""
    client = app.test_client()
    return client.post_form(
        "/auth/login",
        {"login": "alice", "password": password},
        environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
    )


def _failures(app) -> tuple[int, object]:
    with app.app_context():
        return db.session.execute(
            select(User.login_failures, User.login_failures_since).where(User.username == "alice")
        ).one()


def test_sixth_attempt_is_refused_even_with_the_right_password(limited):
    make_user(limited, "alice")
    codes = [_attempt(limited, "pas le bon", n).status_code for n in range(LOGIN_FAILURES)]
    assert codes == [400] * LOGIN_FAILURES
    assert _failures(limited)[0] == LOGIN_FAILURES

    sixth = _attempt(limited, "pas le bon", 10)
    right = _attempt(limited, PASSWORD, 11)

    for response in (sixth, right):
        assert response.status_code == 429
        assert THROTTLED in response.get_data(as_text=True)
        assert 0 < int(response.headers["Retry-After"]) <= LOGIN_WINDOW.total_seconds()
    assert "_user_id" not in (right.headers.get("Set-Cookie") or "")


def test_the_right_password_works_once_the_window_has_passed(limited):
    make_user(limited, "alice")
    for n in range(LOGIN_FAILURES + 2):
        _attempt(limited, "pas le bon", n)
    with limited.app_context():
        db.session.execute(
            update(User).values(login_failures_since=utcnow() - LOGIN_WINDOW - timedelta(seconds=1))
        )
        db.session.commit()

    response = _attempt(limited, PASSWORD, 50)

    assert response.status_code == 302
    assert _failures(limited) == (0, None)


def test_a_success_clears_the_count(limited):
    make_user(limited, "alice")
    for n in range(LOGIN_FAILURES - 1):
        assert _attempt(limited, "pas le bon", n).status_code == 400
    assert _attempt(limited, PASSWORD, 20).status_code == 302
    assert _failures(limited) == (0, None)
    codes = [_attempt(limited, "pas le bon", 30 + n).status_code for n in range(LOGIN_FAILURES)]
    assert codes == [400] * LOGIN_FAILURES  # a fresh count: five more before the lock
    assert _attempt(limited, "pas le bon", 40).status_code == 429


def test_unknown_accounts_store_nothing_and_are_not_throttled_here(limited):
    make_user(limited, "alice")
    client = limited.test_client()
    codes = {
        client.post_form(
            "/auth/login",
            {"login": "personne", "password": "x"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        ).status_code
        for n in range(LOGIN_FAILURES + 2)
    }
    assert codes == {400}
    assert _failures(limited) == (0, None)


# -- real gunicorn, 4 workers ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Browser:
    """A client with its own cookies and its own address (behind the trusted proxy), speaking
    HTTP to the server (no redirects followed). Its own address: the per-address limit, kept
    in each worker's memory, must not be what refuses the attempts this test counts."""

    addresses = itertools.count(2)

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )
        self.opener.addheaders = [("X-Forwarded-For", f"127.0.1.{next(self.addresses)}")]

    def login(self, password: str, login: str = "alice") -> tuple[int, str]:
        page = self.opener.open(self.base + "/auth/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"login": login, "password": password, "csrf_token": token}
        ).encode()
        try:
            response = self.opener.open(self.base + "/auth/login", data=data, timeout=30)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        return response.status, response.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_four_gunicorn_workers_refuse_the_sixth_wrong_password(make_app, database, tmp_path):
    _kind, url, instance, _themes = database
    app = make_app(FORUM_RATE_LIMITS="default")
    make_user(app, "alice")
    make_user(app, "bob")
    env = {
        **os.environ,
        "FORUM_ENV": "development",
        "FORUM_DATABASE_URL": url,
        "FORUM_INSTANCE_PATH": instance,
        "FORUM_SECRET_KEY": "a-secret-key-for-the-gunicorn-test-0123456789",
        "FORUM_RATE_LIMITS": "default",
        "FORUM_PROXY_COUNT": "1",
    }
    env.pop("FORUM_REDIS_URL", None)  # memory limits per worker: only the database is shared
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        answers, right, burst = _run_gunicorn(env, output, log)

    codes = [code for code, _page in answers]
    assert codes[:LOGIN_FAILURES] == [400] * LOGIN_FAILURES
    assert codes[LOGIN_FAILURES:] == [429] * 3
    assert all(THROTTLED in page for _code, page in answers[LOGIN_FAILURES:])
    assert right[0] == 429 and THROTTLED in right[1]
    assert _failures(app)[0] == LOGIN_FAILURES + 4
    # Eight wrong passwords for bob at once, so several workers answer (the access log
    # names each request's worker): still exactly five get through to the password check.
    assert sorted(code for code, _page in burst) == [400] * LOGIN_FAILURES + [429] * 3
    workers = {line.split()[0] for line in log.read_text().splitlines() if "POST" in line}
    assert len(workers) >= 2, log.read_text()


def _run_gunicorn(env: dict, output, log: Path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--access-logfile", "-",
         "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "wsgi:app"],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.build_opener().open(base + "/healthz", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.2)
        # Each attempt from a new connection and cookie jar: any of the 4 workers answers.
        answers = [_Browser(base).login("pas le bon") for _ in range(LOGIN_FAILURES + 3)]
        right = _Browser(base).login(PASSWORD)
        with ThreadPoolExecutor(max_workers=8) as pool:
            burst = list(pool.map(lambda _n: _Browser(base).login("pas le bon", "bob"), range(8)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return answers, right, burst
