"""Rate limits: login per IP and per account, posting pace, repeated bodies, proxies, 429 page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Thread
from forum.extensions import db, limiter
from forum.refusals import Refused
from tests.factories import assert_redirect, login, make_thread, make_user


@pytest.fixture
def limited(make_app, redis_url):
    """The default limits, counted in memory and again in Redis."""
    app = make_app(FORUM_RATE_LIMITS="default", FORUM_REDIS_URL=redis_url)
    with app.app_context():
        limiter.reset()
    return app


def test_seventh_login_attempt_in_a_minute_gets_the_429_page(limited):
    client = limited.test_client()
    token = client.csrf_token()
    answers = [
        client.post("/auth/login", data={"login": f"x{i}", "password": "faux", "csrf_token": token})
        for i in range(7)
    ]
    assert [r.status_code for r in answers[:6]] == [400] * 6
    last = answers[6]
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) > 0
    assert "un peu vite" in last.get_data(as_text=True)


def test_failed_logins_on_one_account_lock_it_softly_across_addresses(limited):
    make_user(limited, "alice")
    answers = []
    for n in range(11):
        client = limited.test_client()
        token = client.csrf_token()
        answers.append(
            client.post(
                "/auth/login",
                data={"login": "ALICE", "password": "mauvais", "csrf_token": token},
                environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
            ).status_code
        )
    # Counted in the database (tests/accounts/test_login_throttle.py): the 6th is refused.
    assert answers[:5] == [400] * 5  # wrong password: the form again
    assert answers[5:] == [429] * 6


def _age(app, user, days: int) -> None:
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(created_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def test_five_seconds_between_posts_and_no_repeat(limited):
    alice = make_user(limited, "alice")
    _age(limited, alice, days=30)  # past the new-account limit: the 5-second one applies
    thread = make_thread(limited, alice)
    client = limited.test_client()
    login(client, "alice")
    first = client.post_form(f"/threads/{thread.id}/reply", {"body": "Premier"})
    assert_redirect(first)
    second = client.post_form(f"/threads/{thread.id}/reply", {"body": "Second"})
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 5
    with limited.app_context():
        limiter.reset()  # as if the five seconds had passed
    repeated = client.post_form(f"/threads/{thread.id}/reply", {"body": "Premier"})
    assert repeated.status_code == 400
    assert "exactement ce message" in repeated.get_data(as_text=True)
    with limited.app_context():
        limiter.reset()
    assert_redirect(client.post_form(f"/threads/{thread.id}/reply", {"body": "Second"}))
    with limited.app_context():
        assert db.session.get(Thread, thread.id).reply_count == 2


def test_a_new_account_waits_thirty_seconds_between_posts(limited):
    alice = make_user(limited, "alice")
    thread = make_thread(limited, alice)
    client = limited.test_client()
    login(client, "alice")
    assert_redirect(client.post_form(f"/threads/{thread.id}/reply", {"body": "Premier"}))
    second = client.post_form(f"/threads/{thread.id}/reply", {"body": "Second"})
    assert second.status_code == 429
    assert 5 < int(second.headers["Retry-After"]) <= 30


def test_same_body_twice_within_five_minutes_is_refused(limited):
    """Part of the default policy (the request limits are Flask-Limiter's; this is the service's)."""
    alice = make_user(limited, "alice")
    thread = make_thread(limited, alice)
    with limited.test_request_context():
        author = db.session.get(User, alice.id)
        discussions.reply(author, db.session.get(Thread, thread.id), "Même texte")
        with pytest.raises(Refused, match="exactement ce message"):
            discussions.reply(author, db.session.get(Thread, thread.id), "Même texte")
        db.session.rollback()
        assert db.session.get(Thread, thread.id).reply_count == 1


def test_repeat_check_is_off_with_the_rate_limits(app):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    with app.test_request_context():
        author = db.session.get(User, alice.id)
        for _ in range(2):
            discussions.reply(author, db.session.get(Thread, thread.id), "Même texte")
        assert db.session.get(Thread, thread.id).reply_count == 2


def test_forwarded_for_is_ignored_without_a_proxy(limited):
    client = limited.test_client()
    token = client.csrf_token()
    codes = [
        client.post(
            "/auth/login",
            data={"login": "x", "password": "y", "csrf_token": token},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        ).status_code
        for n in range(7)
    ]
    assert codes[-1] == 429  # forging the header does not give a fresh address


def test_forwarded_for_is_trusted_behind_a_configured_proxy(make_app):
    app = make_app(FORUM_RATE_LIMITS="default", FORUM_PROXY_COUNT=1)
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    token = client.csrf_token()
    codes = [
        client.post(
            "/auth/login",
            data={"login": f"x{n}", "password": "y", "csrf_token": token},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        ).status_code
        for n in range(8)
    ]
    assert 429 not in codes


def test_relaxed_policy_lets_load_tests_through(make_app):
    app = make_app(FORUM_RATE_LIMITS="relaxed")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    token = client.csrf_token()
    codes = {
        client.post(
            "/auth/login", data={"login": "x", "password": "y", "csrf_token": token}
        ).status_code
        for _ in range(20)
    }
    assert codes == {400}  # wrong passwords, never 429


def test_thirty_searches_a_minute_then_the_429_page(limited):
    """Per member or address; the empty search form is never counted."""
    client = limited.test_client()
    answers = [client.get("/search", query_string={"q": f"mot{n}"}).status_code for n in range(31)]
    assert answers == [200] * 30 + [429]
    refused = client.get("/search", query_string={"q": "encore"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "un peu vite" in refused.get_data(as_text=True)
    assert client.get("/search").status_code == 200
    assert client.get("/search", query_string={"q": "  "}).status_code == 200
    # Another address has its own count.
    other = client.get(
        "/search", query_string={"q": "mot"}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200
