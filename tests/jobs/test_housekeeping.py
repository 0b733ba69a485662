"""Scheduled work in the worker: polls closing at their date, contact requests expiring.

Each is done in the worker's hourly housekeeping (whatever the number of workers, once
per hour) and committed with the job's completion; a poll also has its own job at its
closing date, so that the cached pages of its thread stop offering the vote at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.debate import services as debate
from forum.debate.models import Poll
from forum.directory import contacts
from forum.directory.models import ContactRequest, Organisation
from forum.discussions.models import Thread
from forum.extensions import db
from forum.jobs import services as jobs
from forum.jobs.models import Job
from forum.moderation.models import LogEntry
from forum.notifications.models import Notification
from tests.directory.test_services import _pair
from tests.factories import login, make_thread, make_user


def _poll(app, closes_in: timedelta) -> tuple[int, int]:
    alice = make_user(app, "alice")
    thread = make_thread(app, alice, title="Où tenir la prochaine assemblée ?")
    with app.app_context():
        poll = debate.create_poll(
            db.session.get(User, alice.id),
            db.session.get(Thread, thread.id),
            question="Quel lieu pour l'assemblée ?",
            options="la bourse du travail\nla maison des associations",
            closes_at=utcnow() + closes_in,
        )
        return thread.id, poll.id


def _as_if_closed_an_hour_ago(app, poll_id: int) -> None:
    """The clock moves: the poll's date (and its job's) is now past."""
    past = utcnow() - timedelta(hours=1)
    with app.app_context():
        db.session.execute(update(Poll).where(Poll.id == poll_id).values(closes_at=past))
        db.session.execute(
            update(Job).where(Job.kind == debate.CLOSE_POLLS_JOB).values(run_at=past)
        )
        db.session.commit()


def test_a_poll_is_closed_by_its_own_job_and_the_cached_page_follows(app, client):
    thread_id, poll_id = _poll(app, timedelta(hours=2))
    with app.app_context():
        job = db.session.execute(select(Job).where(Job.kind == debate.CLOSE_POLLS_JOB)).scalar_one()
        assert job.payload == {"poll_id": poll_id} and job.done_at is None
        assert jobs.run_pending()["jobs"] == 0  # not before its date
    first = client.get(f"/threads/{thread_id}", follow_redirects=True).get_data(as_text=True)
    assert "ouvert jusqu" in first  # an anonymous reader, served from the cache next time
    _as_if_closed_an_hour_ago(app, poll_id)

    with app.app_context():
        assert jobs.run_pending()["jobs"] == 1
        poll = db.session.get(Poll, poll_id)
        assert poll.closed_at == poll.closes_at and poll.closed_by_id is None
        entry = db.session.execute(
            select(LogEntry).where(LogEntry.action == "poll:close")
        ).scalar_one()
        assert (entry.actor_id, entry.thread_id) == (None, thread_id)
        assert jobs.run_pending(utcnow() + timedelta(hours=3))["jobs"] == 0
    page = client.get(f"/threads/{thread_id}", follow_redirects=True).get_data(as_text=True)
    assert "ouvert jusqu" not in page and '<p class="meta">clos · ' in page
    # The moderation log tells the closing as a sentence.
    make_user(app, "modo", role="moderator")
    moderator = app.test_client()
    login(moderator, "modo")
    journal = moderator.get("/moderation/log")
    assert journal.status_code == 200
    assert "Quel lieu pour l" in journal.get_data(as_text=True)


def test_housekeeping_closes_polls_whose_job_is_missing_once(app):
    _thread_id, poll_id = _poll(app, timedelta(hours=2))
    _as_if_closed_an_hour_ago(app, poll_id)
    with app.app_context():
        # A poll from before the closing jobs: none of its own.
        db.session.execute(update(Job).values(done_at=utcnow()))
        db.session.commit()
        now = utcnow()
        assert jobs.schedule(now) >= 1
        assert jobs.schedule(now) == 0  # once per hour, however many workers
        assert jobs.run_pending(now + timedelta(seconds=1))["jobs"] >= 1
        assert db.session.get(Poll, poll_id).closed_at is not None
        assert debate.close_due_polls() == 0  # nothing left to close
        closings = db.session.execute(
            select(LogEntry.id).where(LogEntry.action == "poll:close")
        ).all()
        assert len(closings) == 1


def test_housekeeping_expires_unanswered_contact_requests_and_tells_the_requester(app):
    w = _pair(app)
    with app.app_context():
        old = contacts.request_contact(
            db.session.get(User, w.alice.id),
            db.session.get(Organisation, w.coop.id),
            "Une demande restée sans réponse.",
        )
        old_id = old.id
        db.session.execute(update(ContactRequest).values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        now = utcnow() + timedelta(hours=1)
        jobs.schedule(now)
        jobs.run_pending(now)
        assert db.session.get(ContactRequest, old_id).status == "expired"
        told = db.session.execute(
            select(Notification.event).where(
                Notification.user_id == w.alice.id, Notification.contact_request_id == old_id
            )
        ).scalars()
        assert list(told) == ["contact_expired"]
        housekeeping = db.session.execute(
            select(Job).where(Job.kind == "housekeeping")
        ).scalar_one()
        assert housekeeping.done_at is not None
        # The next hour finds nothing more to expire, and tells nobody twice.
        later = now + timedelta(hours=1)
        jobs.schedule(later)
        jobs.run_pending(later)
        assert (
            len(
                db.session.execute(
                    select(Notification.id).where(Notification.event == "contact_expired")
                ).all()
            )
            == 1
        )
