"""Requests against an SMTP server that answers after 20 s: are replies still fast?

``python bench/slow_smtp.py`` (``make bench-mail``): a forum on a fresh SQLite file
(and on PostgreSQL when ``FORUM_BENCH_DATABASE_URL`` is set; its ``public`` schema is
dropped and rebuilt), served by gunicorn (2 workers, production settings), with
``flask forum worker`` in its own process, mailing through a real SMTP server
(aiosmtpd) that keeps every client waiting 20 s at MAIL FROM. A member posts replies
through the form; each reply mails the thread's author. Printed: how long each reply
took to be acknowledged (target: under 100 ms, while the server holds), then how long
the mails took to arrive once the server answered, and that each arrived once.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Client, _csrf
from bench.run import ROOT, Server, flask, flask_env, free_port

HOLD_S = 20.0
REPLIES = 20
PASSWORD = "bench-mot-de-passe-solide"  # noqa: S105 - local accounts of a throwaway database


class SlowInbox:
    """Silent for HOLD_S seconds from the first MAIL FROM (every client waits), then
    answers at once; keeps what it receives."""

    def __init__(self, hold: float = HOLD_S) -> None:
        self.hold = hold
        self.messages = []
        self.answered = threading.Event()
        self.reached = threading.Event()  # a client (the worker) is in its SMTP exchange
        self.until: float | None = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        loop = asyncio.get_running_loop()
        self.reached.set()
        if self.until is None:
            self.until = loop.time() + self.hold
        await asyncio.sleep(max(0.0, self.until - loop.time()))
        self.answered.set()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def seed(url: str, instance: Path) -> int:
    """Two verified members and a thread by the first; the thread's id."""
    from forum import create_app
    from forum.accounts import services as accounts
    from forum.db import utcnow, write_intent
    from forum.discussions import services as discussions
    from forum.discussions.models import Theme
    from forum.extensions import db

    os.environ["FORUM_INSTANCE_PATH"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FORUM_MAIL_SERVER": None})
    with app.test_request_context(), write_intent():
        alice = accounts.register("alice", "alice@exemple.org", PASSWORD)
        bob = accounts.register("bob", "bob@exemple.org", PASSWORD)
        alice.email_verified_at = bob.email_verified_at = utcnow()
        db.session.commit()
        theme = db.session.execute(db.select(Theme).limit(1)).scalar_one()
        thread = discussions.create_thread(alice, theme, "La mutuelle du quartier", "Parlons-en.")
        thread_id = thread.id
        db.session.remove()
        db.engine.dispose()
    return thread_id


def run(url: str, label: str, hold: float = HOLD_S) -> None:
    instance = Path(tempfile.mkdtemp(prefix="forum-bench-mail-"))
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    flask(["db", "upgrade"], flask_env(url, instance))
    thread_id = seed(url, instance)
    inbox = SlowInbox(hold)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    mail_env = {
        "FORUM_MAIL_SERVER": "127.0.0.1",
        "FORUM_MAIL_PORT": str(port),
        "FORUM_MAIL_TIMEOUT": str(int(hold + 10)),
        "FORUM_WORKER_POLL": "0.2",
        "FORUM_DIGEST_HOUR": "-1",
    }
    server = Server("wsgi:app", url, instance, **mail_env)
    worker_env = {**flask_env(url, instance), **mail_env}

    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "forum", "worker"], cwd=ROOT, env=worker_env
    )
    try:
        client = Client(server.base)
        _response, page = client.request("GET", "/auth/login")
        token = _csrf(page.decode())
        response, _ = client.request(
            "POST", "/auth/login", {"login": "bob", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status == 302, response.status
        times, statuses = [], Counter()
        # A first reply warms the server up (not counted) and starts the server's silence.
        client.request(
            "POST", f"/threads/{thread_id}/reply", {"csrf_token": token, "body": "Bonjour."}
        )
        # The measured replies start once the worker is inside its SMTP exchange.
        if not inbox.reached.wait(180):
            raise SystemExit("the worker never reached the SMTP server")
        started_all = time.monotonic()
        for n in range(REPLIES):
            form = {"csrf_token": token, "body": f"Réponse {n} : la mutuelle, oui, et vite."}
            started = time.perf_counter()
            response, _ = client.request("POST", f"/threads/{thread_id}/reply", form)
            times.append(time.perf_counter() - started)
            statuses[response.status] += 1
            time.sleep(0.05)
        held = not inbox.answered.is_set()
        posted_in = time.monotonic() - started_all
        p50, worst = statistics.median(times) * 1000, max(times) * 1000
        p90 = statistics.quantiles(times, n=10)[-1] * 1000
        print(f"[{label}] {REPLIES} replies acknowledged: HTTP {dict(statuses)}, "
              f"p50 {p50:.1f} ms, p90 {p90:.1f} ms, max {worst:.1f} ms "
              f"(target < 100 ms: p50 {'met' if p50 < 100 else 'missed'}, "
              f"max {'met' if worst < 100 else 'missed'}); "
              + (f"SMTP server silent all along: {'yes' if held else 'no'} " if hold else "")
              + f"({posted_in:.1f} s after the first reply)", flush=True)  # fmt: skip
        deadline = time.monotonic() + hold * 4 + 60
        while len(inbox.messages) < REPLIES + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        delivered_in = time.monotonic() - started_all
        ids = Counter(message["Message-ID"] for message in inbox.messages)
        print(f"[{label}] mails delivered: {len(inbox.messages)}/{REPLIES + 1}, "
              f"{len(ids)} distinct Message-IDs, each once: {set(ids.values()) == {1}}; "
              f"all in {delivered_in:.1f} s after the first reply (server hold {hold:.0f} s)",
              flush=True)  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(60)
        server.stop()
        controller.stop()


def main() -> int:
    """Each database twice: the SMTP server answering at once (the control), then silent."""
    folder = Path(tempfile.mkdtemp(prefix="forum-bench-mail-db-"))
    run(f"sqlite:///{folder / 'control.sqlite3'}", "SQLite, SMTP at once", hold=0)
    run(f"sqlite:///{folder / 'forum.sqlite3'}", "SQLite, SMTP silent 20 s")
    pg = os.environ.get("FORUM_BENCH_DATABASE_URL")
    if pg:
        run(pg, "PostgreSQL, SMTP at once", hold=0)
        run(pg, "PostgreSQL, SMTP silent 20 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
