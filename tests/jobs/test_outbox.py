"""A reply and its notifications: written once, never lost once the reply is committed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from forum.db import utcnow
from forum.discussions import services as discussions
from forum.extensions import db
from forum.jobs.models import Job
from forum.jobs.services import run_pending
from forum.notifications.fanout import AFTER_POST_JOB
from forum.notifications.models import Notification, OutboxMail
from tests.factories import make_reply, make_thread, make_user


def counts(app) -> tuple[int, int]:
    with app.app_context():
        notified = db.session.execute(select(func.count(Notification.id))).scalar()
        mailed = db.session.execute(select(func.count(OutboxMail.id))).scalar()
        db.session.remove()
    return notified, mailed


def after_lease(app):
    return utcnow() + timedelta(seconds=app.config["FORUM_WORKER_LEASE"] + 1)


def test_the_request_notifies_and_completes_the_job_in_one_transaction(app):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    post = make_reply(app, bob, thread)
    assert counts(app) == (1, 1)  # Alice: told under the bell and by mail
    with app.app_context():
        opening, job = db.session.execute(
            select(Job).where(Job.kind == AFTER_POST_JOB).order_by(Job.id)
        ).scalars()
        assert opening.payload["new_thread"] is True
        assert opening.done_at is not None  # nobody to tell of the new thread: done all the same
        assert job.payload == {"post_id": post.id, "new_thread": False}
        assert job.done_at is not None and job.attempts == 0  # done by the request
        assert run_pending(after_lease(app))["jobs"] == 0
    assert counts(app) == (1, 1)  # never twice


def test_a_reply_whose_request_died_after_the_commit_is_notified_by_the_worker(app, monkeypatch):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    # The process dies between the reply's commit and its notifications.
    monkeypatch.setattr(discussions.fanout, "after_post", lambda *args, **kwargs: None)
    post = make_reply(app, bob, thread)
    monkeypatch.undo()
    assert counts(app) == (0, 0)
    with app.app_context():
        assert run_pending()["jobs"] == 0  # the request's own turn first
        assert run_pending(after_lease(app))["jobs"] == 1
        [notification] = db.session.execute(select(Notification)).scalars().all()
        assert (notification.user_id, notification.post_id) == (alice.id, post.id)
        [sent] = db.session.execute(select(OutboxMail.sent_at)).scalars().all()
        assert sent is not None  # no mail server in this test: written to the log
        assert run_pending(after_lease(app) + timedelta(hours=1))["jobs"] == 0
    assert counts(app) == (1, 1)


def test_a_request_late_for_a_job_the_worker_took_writes_nothing(app):
    from forum.jobs import services as jobs
    from forum.notifications import fanout

    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    with app.app_context():
        post = make_reply(app, bob, thread)
        before = counts(app)
        # A second planned job for the same post, claimed by a worker …
        job_id = fanout.plan_after_post(post.id)
        db.session.commit()
        claimed = jobs.claim_job(after_lease(app))
        assert claimed is not None and claimed[1].id == job_id
        # … so the request's own fan-out gives way.
        fanout.after_post(db.session.get(type(post), post.id), job_id=job_id)
        assert counts(app) == before
        assert jobs.run_job(*claimed) is True
        assert counts(app) == (before[0] + 1, before[1] + 1)
