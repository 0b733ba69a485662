"""The worker and the mail: requests never wait for SMTP, each mail is sent exactly once.

Real SMTP servers (aiosmtpd) on loopback; real worker loops in threads and in a
subprocess killed with SIGKILL; SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db
from forum.jobs.services import run_pending
from forum.jobs.worker import run_worker
from forum.notifications.models import OutboxMail
from tests.factories import make_thread, make_user
from tests.jobs.conftest import message_ids, queue_mails, wait_for
from tests.notifications.conftest import SMTPServer, mail_config

ROOT = Path(__file__).resolve().parents[2]


def unsent(app) -> int:
    with app.app_context():
        count = db.session.execute(
            select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))
        ).scalar()
        db.session.remove()
    return count


def test_replies_are_acknowledged_while_the_smtp_server_holds_then_mailed_once(
    make_app, held_server
):
    app = make_app(**mail_config(held_server.port), FORUM_WORKER_BATCH=1)
    alice, _bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice, title="Le tiers-lieu du quartier")
    client = app.test_client()
    client.post_form("/auth/login", {"login": "bob", "password": "un mot de passe solide"})
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(app, stop), kwargs={"poll": 0.05})
    worker.start()
    try:
        first = client.post_form(f"/threads/{thread.id}/reply", {"body": "Première réponse."})
        assert first.status_code == 302
        # The worker took the first mail and waits for the server, mid-SMTP.
        assert held_server.inbox.reached.wait(30)
        for n in range(2, 5):
            response = client.post_form(f"/threads/{thread.id}/reply", {"body": f"Réponse {n}."})
            assert response.status_code == 302  # acknowledged while the server holds
        assert not held_server.inbox.release.is_set()
        assert held_server.inbox._messages == []
        assert unsent(app) == 4
        held_server.inbox.release.set()
        wait_for(lambda: unsent(app) == 0)
    finally:
        held_server.inbox.release.set()
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    received = held_server.inbox._messages
    assert len(received) == 4
    assert all(message["To"] == "alice@exemple.org" for message in received)
    assert set(message_ids(held_server).values()) == {1}  # each exactly once


def test_several_workers_share_the_outbox_and_send_each_mail_once(make_app, smtp_server):
    app = make_app(**mail_config(smtp_server.port), FORUM_WORKER_BATCH=3)
    ids = queue_mails(app, 60)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            with app.app_context():
                while run_pending()["sent"]:
                    pass
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(120)
    assert errors == []
    counts = message_ids(smtp_server)
    assert len(counts) == len(ids) == 60  # none left unsent
    assert set(counts.values()) == {1}  # none sent twice
    assert sorted(m["To"] for m in smtp_server.inbox._messages) == sorted(
        f"membre{n}@exemple.org" for n in range(60)
    )
    assert unsent(app) == 0


def worker_process(app, port: int) -> subprocess.Popen:
    """``flask forum worker`` in its own process, on the test's database."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FORUM_INSTANCE_PATH": app.instance_path,
        "FORUM_SECRET_KEY": app.config["SECRET_KEY"],
        "FORUM_MAIL_SERVER": "127.0.0.1",
        "FORUM_MAIL_PORT": str(port),
        "FORUM_MAIL_TIMEOUT": "30",
        "FORUM_WORKER_LEASE": "120",
        "FORUM_WORKER_POLL": "0.05",
        "FORUM_DIGEST_HOUR": "-1",
        "FORUM_BASE_URL": app.config["FORUM_BASE_URL"],
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "forum", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_delivery_leaves_its_mails_to_another_after_the_lease(make_app):
    server = SMTPServer()
    from tests.jobs.conftest import HeldInbox

    server.inbox = HeldInbox(sessions=1)  # the first connection waits at MAIL FROM
    server.start()
    app = make_app(**mail_config(server.port), FORUM_WORKER_LEASE=120)
    try:
        ids = queue_mails(app, 8)
        process = worker_process(app, server.port)
        try:
            assert server.inbox.reached.wait(60), "the worker never reached the server"
            process.send_signal(signal.SIGKILL)
            assert process.wait(30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
        server.inbox.release.set()  # the dead worker's connection goes nowhere
        with app.app_context():
            claimed = db.session.execute(
                select(OutboxMail.claim_token, OutboxMail.attempts, OutboxMail.sent_at)
            ).all()
            assert {row.sent_at for row in claimed} == {None}
            assert len({row.claim_token for row in claimed}) == 1  # one claim, the dead one's
            assert {row.attempts for row in claimed} == {1}
            # Another worker: nothing to take while the lease holds …
            assert run_pending() == {"sent": 0, "failed": 0, "jobs": 0}
            # … then every mail, once.
            after_lease = utcnow() + timedelta(seconds=121)
            assert run_pending(after_lease)["sent"] == len(ids)
            assert run_pending(after_lease + timedelta(hours=1))["sent"] == 0
        counts = message_ids(server)
        assert len(counts) == len(ids) and set(counts.values()) == {1}
        assert unsent(app) == 0
    finally:
        server.inbox.release.set()
        server.stop()


def test_a_stopping_worker_finishes_its_mail_and_gives_the_others_back(make_app):
    from forum.notifications import mail
    from tests.notifications.conftest import Inbox

    stop = threading.Event()

    class StopAfterOne(Inbox):
        async def handle_DATA(self, server, session, envelope):
            stop.set()  # SIGTERM arrives while the first mail is being sent
            return await super().handle_DATA(server, session, envelope)

    server = SMTPServer()
    server.inbox = StopAfterOne()
    server.start()
    try:
        app = make_app(**mail_config(server.port), FORUM_WORKER_BATCH=5)
        queue_mails(app, 5)
        with app.app_context():
            assert mail.deliver(stop=stop) == (1, 0)
            rows = db.session.execute(
                select(OutboxMail.attempts, OutboxMail.claim_token, OutboxMail.claimed_until).where(
                    OutboxMail.sent_at.is_(None)
                )
            ).all()
            assert rows == [(0, None, None)] * 4  # free at once, the try not counted
            db.session.remove()
            assert run_pending()["sent"] == 4
        assert set(message_ids(server).values()) == {1} and len(message_ids(server)) == 5
    finally:
        server.stop()
