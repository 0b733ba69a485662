"""A post and its notifications: written once, never lost once the post is committed.

A reply writes them in its own transaction; a new thread writes the job that does.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from forum.discussions import services as discussions
from forum.extensions import db
from forum.jobs.models import Job
from forum.jobs.services import run_pending
from forum.notifications.fanout import AFTER_POST_JOB
from forum.notifications.models import Notification, OutboxMail
from tests.factories import make_reply, make_thread, make_user
from tests.jobs.outbox import after_lease


def counts(app) -> tuple[int, int]:
    with app.app_context():
        notified = db.session.execute(select(func.count(Notification.id))).scalar()
        mailed = db.session.execute(select(func.count(OutboxMail.id))).scalar()
        db.session.remove()
    return notified, mailed


def test_a_reply_commits_its_notifications_and_mail_with_it(app):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    make_reply(app, bob, thread)
    assert counts(app) == (1, 1)  # Alice: told under the bell and by mail
    with app.app_context():
        [opening] = db.session.execute(
            select(Job).where(Job.kind == AFTER_POST_JOB).order_by(Job.id)
        ).scalars()
        assert opening.payload["new_thread"] is True  # a new thread writes the job …
        assert opening.done_at is not None  # nobody to tell of it: done all the same
        # … a reply needs none: its notifications were written with it.
        assert run_pending(after_lease(app))["jobs"] == 0
    assert counts(app) == (1, 1)  # never twice


def test_a_reply_rolled_back_leaves_no_notification_and_no_mail(app, monkeypatch):
    from forum.accounts.models import User
    from forum.discussions.models import Post, Thread

    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    before = counts(app)

    def broken(**_kwargs):  # the last write of the reply, after its notifications
        raise RuntimeError("le disque est plein")

    monkeypatch.setattr(discussions, "touch", broken)
    with app.test_request_context():
        try:
            discussions.reply(
                db.session.get(User, bob.id), db.session.get(Thread, thread.id), "Perdue."
            )
        except RuntimeError:
            db.session.rollback()
        else:
            raise AssertionError("the reply should have failed")
        assert db.session.execute(select(func.count(Post.id))).scalar() == 1
    assert counts(app) == before == (0, 0)


def test_a_reply_that_would_mail_many_writes_the_job_the_request_runs(app, monkeypatch):
    from forum.notifications import fanout

    monkeypatch.setattr(fanout, "INLINE_MAILS", 0)  # one mail is already too many
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    post = make_reply(app, bob, thread)
    assert counts(app) == (1, 1)
    with app.app_context():
        job = db.session.execute(
            select(Job).where(Job.kind == AFTER_POST_JOB).order_by(Job.id.desc()).limit(1)
        ).scalar_one()
        assert job.payload == {"post_id": post.id, "new_thread": False}
        assert job.done_at is not None and job.attempts == 0  # done by the request
        assert run_pending(after_lease(app))["jobs"] == 0
    assert counts(app) == (1, 1)


def test_a_new_thread_whose_request_died_after_the_commit_is_notified_by_the_worker(
    app, monkeypatch
):
    from forum.accounts.models import User
    from forum.discussions.models import Theme
    from forum.notifications import watching

    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    with app.app_context():
        theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        watching.watch_theme(db.session.get(User, bob.id), theme, "watching")
    # The process dies between the thread's commit and its notifications.
    monkeypatch.setattr(discussions.fanout, "after_post", lambda *args, **kwargs: None)
    thread = make_thread(app, alice, theme="urbain")
    monkeypatch.undo()
    assert counts(app) == (0, 0)
    with app.app_context():
        assert run_pending()["jobs"] == 0  # the request's own turn first
        assert run_pending(after_lease(app))["jobs"] == 1
        [notification] = db.session.execute(select(Notification)).scalars().all()
        assert (notification.user_id, notification.thread_id) == (bob.id, thread.id)
        assert notification.kind == "new_thread"
        assert run_pending(after_lease(app) + timedelta(hours=1))["jobs"] == 0
    assert counts(app)[0] == 1


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
