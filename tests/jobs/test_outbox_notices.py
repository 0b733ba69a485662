"""Seminar notices and moderation outcomes go through the outbox, as replies do.

Their job is written in the transaction of the change: a change rolled back leaves no
job, no notification and no mail; a committed one is told once, by the request right
after its commit or, should the request die first, by the worker; and the worker
delivers each mail to a real SMTP server exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from forum.accounts.models import User
from forum.discussions.models import Post
from forum.extensions import db
from forum.jobs import services as jobs
from forum.jobs.models import Job
from forum.moderation import sanctions
from forum.moderation import services as moderation
from forum.notifications.fanout import MODERATION_JOB, SEMINAR_JOB
from forum.notifications.models import Notification, OutboxMail
from forum.seminars import services as seminars
from forum.seminars.models import Registration, Session
from tests.factories import make_reply, make_thread, make_user
from tests.jobs.outbox import after_lease, counts
from tests.seminars.test_seminars import make_seminar, make_session


def _registered_session(app):
    organiser = make_user(app, "orga", role="admin")
    alice = make_user(app, "alice")
    seminar_id = make_seminar(app, organiser, days=-1)
    session_id = make_session(app, organiser, seminar_id, title="Atelier mobilités")
    with app.app_context():
        db.session.add(Registration(seminar_id=seminar_id, user_id=alice.id, status="confirmed"))
        db.session.commit()
    return organiser, alice, session_id


def test_a_sanction_rolled_back_leaves_no_job_no_notification_no_mail(app):
    moderator = make_user(app, "modo", role="moderator")
    target = make_user(app, "bruyant")
    before = counts(app, MODERATION_JOB)
    with app.test_request_context():
        sanctions.sanction(
            db.session.get(User, moderator.id),
            db.session.get(User, target.id),
            "warn",
            None,
            "Propos blessants",
            commit=False,
        )
        pending = db.session.execute(select(Job.kind)).scalars().all()
        assert MODERATION_JOB in pending  # written in the sanction's transaction …
        db.session.rollback()  # … and gone with it
    assert counts(app, MODERATION_JOB) == before == (0, 0, 0)


def test_a_seminar_notice_rolled_back_leaves_no_job(app):
    _organiser, _alice, session_id = _registered_session(app)
    with app.test_request_context():
        session = db.session.get(Session, session_id)
        assert seminars.invite_to_continue(session, minutes=True)
        assert db.session.execute(select(Job.kind).where(Job.kind == SEMINAR_JOB)).scalar()
        db.session.rollback()
    assert counts(app, SEMINAR_JOB) == (0, 0, 0)


def test_minutes_commit_their_job_which_the_request_completes(mail_app, smtp_server):
    organiser, alice, session_id = _registered_session(mail_app)
    with mail_app.test_request_context():
        seminars.publish_minutes(
            db.session.get(User, organiser.id),
            db.session.get(Session, session_id),
            "Ce qui s'est dit à l'atelier.",
        )
        job = db.session.execute(select(Job).where(Job.kind == SEMINAR_JOB)).scalar_one()
        assert job.done_at is not None and job.attempts == 0  # done by the request
        assert job.payload["user_ids"] == [alice.id]
        assert jobs.run_pending(after_lease(mail_app))["jobs"] == 0  # nothing left
    assert counts(mail_app, SEMINAR_JOB)[:2] == (1, 1)
    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert message["Subject"] == "Compte rendu publié : « Atelier mobilités »"
    assert len(smtp_server.inbox.to("alice@exemple.org")) == 1


def test_a_hidden_post_whose_request_died_is_told_by_the_worker_exactly_once(
    mail_app, smtp_server, monkeypatch
):
    moderator = make_user(mail_app, "modo", role="moderator")
    author, reader = make_user(mail_app, "autrice"), make_user(mail_app, "lectrice")
    thread = make_thread(mail_app, reader, title="Le marché du samedi")
    post = make_reply(mail_app, author, thread, body="Un message à masquer.")
    smtp_server.inbox.worker_app = None  # read the mailbox as it is: the worker runs below
    with mail_app.app_context():
        jobs.run_pending()  # the thread's and the reply's own mails
    _none, notified, queued = counts(mail_app, MODERATION_JOB)

    # The process dies between the hiding's commit and its notification.
    monkeypatch.setattr(jobs, "run_now", lambda *args, **kwargs: False)
    with mail_app.test_request_context():
        moderation.hide(
            db.session.get(User, moderator.id), db.session.get(Post, post.id), "Hors sujet"
        )
    monkeypatch.undo()
    assert counts(mail_app, MODERATION_JOB) == (1, notified, queued)  # the job, alone

    with mail_app.app_context():
        assert jobs.run_pending()["jobs"] == 0  # not before the request's lease ends
        # Two workers' turns after the lease: the job runs once, its mail goes once.
        assert jobs.run_pending(after_lease(mail_app))["jobs"] == 1
        assert jobs.run_pending(after_lease(mail_app) + timedelta(hours=1))["jobs"] == 0
        [row] = db.session.execute(
            select(Notification).where(Notification.user_id == author.id)
        ).scalars()
        assert (row.kind, row.event, row.post_id) == ("moderation", "post_hidden", post.id)
        unsent = db.session.execute(
            select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))
        ).scalar()
        assert unsent == 0
    mails = smtp_server.inbox.to("autrice@exemple.org")
    assert [m["Subject"] for m in mails] == [
        "Votre message dans « Le marché du samedi » a été masqué par la modération"
    ]
    assert max(Counter(m["Message-ID"] for m in smtp_server.messages).values()) == 1


def test_a_sanction_decided_on_a_report_tells_its_target_once(app):
    """The sanction tells its target in its own transaction; the decision does not again."""
    from forum.moderation import reports

    moderator = make_user(app, "modo", role="moderator")
    author, reporter = make_user(app, "autrice"), make_user(app, "vigie")
    thread = make_thread(app, reporter)
    post = make_reply(app, author, thread, body="Un message signalé.")
    with app.test_request_context():
        reports.report_post(
            db.session.get(User, reporter.id), db.session.get(Post, post.id), "spam"
        )
        reports.decide_post(
            db.session.get(User, moderator.id),
            db.session.get(Post, post.id),
            "hide_sanction",
            "Publicité répétée",
            sanction_kind="warn",
            days=None,
        )
        events = Counter(
            db.session.execute(
                select(Notification.event).where(Notification.kind == "moderation")
            ).scalars()
        )
    assert events == {"report_handled": 1, "post_hidden": 1, "sanction": 1}
