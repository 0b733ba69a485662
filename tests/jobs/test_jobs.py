"""Jobs: written with their cause, run once, retried after a failure, taken again after a lease."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from forum.db import utcnow, write_intent
from forum.extensions import db
from forum.jobs import services as jobs
from forum.jobs.models import Job
from forum.notifications.models import OutboxMail

RUNS: list[dict] = []


@jobs.handler("tests.record")
def record(payload: dict) -> None:
    """Remember the payload; its follow-up job commits with this job's completion."""
    RUNS.append(payload)
    jobs.enqueue("tests.follow-up", {"after": payload["n"]}, key=f"follow-up:{payload['n']}")


@jobs.handler("tests.follow-up")
def follow_up(payload: dict) -> None:
    RUNS.append(payload)


@jobs.handler("tests.fails")
def fails(payload: dict) -> None:
    if payload.get("fixed") is None:
        raise RuntimeError("le service distant ne répond pas")


def test_a_job_commits_with_its_cause_or_not_at_all_and_runs_once(app):
    RUNS.clear()
    with app.app_context():
        with write_intent():
            jobs.enqueue("tests.record", {"n": 1})
            db.session.rollback()  # the change that caused it is abandoned
        assert db.session.execute(select(func.count(Job.id))).scalar() == 0
        with write_intent():
            job_id = jobs.enqueue("tests.record", {"n": 2})
            db.session.commit()
        assert jobs.run_pending() == {"sent": 0, "failed": 0, "jobs": 2}
        assert RUNS == [{"n": 2}, {"after": 2}]
        job = db.session.get(Job, job_id)
        assert job.done_at is not None and job.attempts == 1 and job.claim_token is None
        assert jobs.run_pending()["jobs"] == 0
        assert RUNS == [{"n": 2}, {"after": 2}]


def test_a_keyed_job_exists_once(app):
    with app.app_context():
        with write_intent():
            first = jobs.enqueue("tests.follow-up", {}, key="une-fois")
            again = jobs.enqueue("tests.follow-up", {}, key="une-fois")
            db.session.commit()
        assert first is not None and again is None
        assert db.session.execute(select(func.count(Job.id))).scalar() == 1


def test_a_job_runs_not_before_its_time(app):
    RUNS.clear()
    with app.app_context():
        later = utcnow() + timedelta(hours=1)
        with write_intent():
            jobs.enqueue("tests.follow-up", {"n": "plus tard"}, run_at=later)
            db.session.commit()
        assert jobs.run_pending()["jobs"] == 0
        assert jobs.run_pending(later)["jobs"] == 1
        assert RUNS == [{"n": "plus tard"}]


def test_a_failed_job_waits_then_is_tried_again_and_keeps_its_error(app):
    with app.app_context():
        with write_intent():
            job_id = jobs.enqueue("tests.fails", {})
            db.session.commit()
        assert jobs.run_pending()["jobs"] == 1
        job = db.session.get(Job, job_id)
        assert job.done_at is None and job.attempts == 1
        assert job.last_error == "RuntimeError: le service distant ne répond pas"
        assert job.claim_token is None and job.claimed_until > utcnow()
        db.session.remove()
        assert jobs.run_pending()["jobs"] == 0  # it waits a minute first
        now = utcnow()
        for attempt in range(2, jobs.MAX_ATTEMPTS + 1):
            now += timedelta(hours=1)
            assert jobs.run_pending(now)["jobs"] == 1, attempt
        assert jobs.run_pending(now + timedelta(days=1))["jobs"] == 0  # given up
        job = db.session.get(Job, job_id)
        assert job.attempts == jobs.MAX_ATTEMPTS and job.done_at is None


def test_a_claimed_job_is_taken_again_after_its_lease_and_the_first_claim_is_void(app):
    RUNS.clear()
    with app.app_context():
        with write_intent():
            jobs.enqueue("tests.record", {"n": 3})
            db.session.commit()
        token, claimed = jobs.claim_job()  # a worker takes it, then dies
        assert jobs.run_pending()["jobs"] == 0  # the lease holds
        lease = timedelta(seconds=app.config["FORUM_WORKER_LEASE"])
        assert jobs.run_pending(utcnow() + lease + timedelta(seconds=1))["jobs"] == 2
        assert RUNS == [{"n": 3}, {"after": 3}]
        # The first worker wakes up: its claim is void, its writes are rolled back.
        assert jobs.run_job(token, claimed) is False
        assert RUNS == [{"n": 3}, {"after": 3}, {"n": 3}]
        assert db.session.execute(select(func.count(Job.id))).scalar() == 2  # no second follow-up


def test_periodic_jobs_are_enqueued_once_per_period_by_any_number_of_workers(make_app):
    app = make_app(FORUM_DIGEST_HOUR=7)
    with app.app_context():
        # 06:30 in Paris (winter: UTC+1): housekeeping only; 07:30: the digest too.
        early, later = datetime(2026, 12, 3, 5, 30), datetime(2026, 12, 3, 6, 30)
        assert jobs.schedule(early) == 1
        assert jobs.schedule(early) == 0  # a second worker, same hour
        assert jobs.schedule(later) == 2
        known: set[str] = set()
        assert jobs.schedule(later, known=known) == 0 and len(known) == 2
        keys = set(db.session.execute(select(Job.key)).scalars())
        assert keys == {
            "housekeeping:2026-12-03T05",
            "housekeeping:2026-12-03T06",
            "digests:2026-12-03",
        }


def test_housekeeping_purges_old_sent_mails_and_finished_jobs(app):
    from tests.jobs.conftest import queue_mails

    old = utcnow() - timedelta(days=40)
    ids = queue_mails(app, 2)
    with app.app_context():
        db.session.get(OutboxMail, ids[0]).sent_at = old
        db.session.add(Job(kind="tests.follow-up", payload={}, done_at=old))
        jobs.enqueue("housekeeping")
        db.session.commit()
        assert jobs.run_pending()["jobs"] == 1
        assert db.session.execute(select(OutboxMail.id)).scalars().all() == [ids[1]]
        assert db.session.execute(select(Job.kind)).scalars().all() == ["housekeeping"]
