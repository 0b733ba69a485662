"""forum.db.after_commit: effects queued in a transaction run after its commit, never after
a rollback; a failing one is logged and leaves the caller's commit alone."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.accounts.models import User
from forum.db import after_commit
from forum.extensions import db
from tests.factories import make_user


def _user_count() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def test_callbacks_run_after_the_commit_in_order_and_see_its_rows(app):
    alice = make_user(app, "alice")
    seen = []
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.display_name = "Alice L."
        after_commit(seen.append, "first")
        after_commit(
            lambda: seen.append(
                db.session.execute(select(User.display_name).where(User.id == alice.id)).scalar()
            )
        )
        assert seen == []  # queued, not run
        db.session.flush()
        assert seen == []  # a flush is not a commit
        db.session.commit()
        assert seen == ["first", "Alice L."]
        db.session.commit()  # nothing queued any more: nothing runs twice
        assert seen == ["first", "Alice L."]


def test_callbacks_are_dropped_on_rollback(app):
    make_user(app, "alice")
    seen = []
    with app.app_context():
        db.session.get(User, 1)
        after_commit(seen.append, "never")
        db.session.rollback()
        db.session.commit()
        assert seen == []


def test_a_failed_commit_drops_its_callbacks(app):
    alice = make_user(app, "alice")
    seen = []
    with app.app_context():
        db.session.add(User(username="alice", username_key="alice", email="x@exemple.org"))
        after_commit(seen.append, "never")
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.commit()
        assert seen == []
        assert db.session.get(User, alice.id) is not None


def test_a_callback_may_write_and_queue_its_own(app):
    alice = make_user(app, "alice")
    seen = []

    def rename():
        db.session.get(User, alice.id).display_name = "renommée"
        after_commit(seen.append, "after the rename")
        db.session.commit()

    with app.app_context():
        after_commit(rename)
        after_commit(seen.append, "second")
        db.session.commit()
        # The rename's own callback runs after those already due.
        assert seen == ["second", "after the rename"]
        db.session.expire_all()
        assert db.session.get(User, alice.id).display_name == "renommée"


def test_an_error_in_a_callback_is_logged_and_the_next_still_run(app, caplog):
    make_user(app, "alice")
    seen = []

    def broken():
        db.session.execute(select(User.id)).all()  # leaves a transaction open
        raise RuntimeError("panne du service")

    with app.app_context():
        after_commit(broken)
        after_commit(seen.append, "ran")
        with caplog.at_level(logging.ERROR, logger="forum.after_commit"):
            db.session.commit()  # does not raise
        assert seen == ["ran"]
        assert "panne du service" in caplog.text
        assert not db.session().in_transaction()
        assert _user_count() == 1


def test_an_error_in_a_callback_does_not_fail_the_request(app, client):
    make_user(app, "alice")

    @app.post("/__after_commit_probe")
    def probe():
        user = db.session.get(User, 1) or db.session.execute(select(User)).scalar_one()
        user.display_name = "écrit"
        after_commit(lambda: 1 / 0)
        db.session.commit()
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/__after_commit_probe")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.execute(select(User.display_name)).scalar() == "écrit"
