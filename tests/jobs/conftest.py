"""SMTP servers that hold their answer until the test lets them go, and mail helpers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest

from forum.extensions import db
from forum.notifications import mail
from tests.notifications.conftest import Inbox, SMTPServer, mail_app, smtp_server  # noqa: F401

#: The longest a held server keeps a client waiting (then it answers anyway).
HOLD_S = 20


class HeldInbox(Inbox):
    """Keeps the first ``sessions`` clients waiting at MAIL FROM until :attr:`release` is set.

    :attr:`reached` is set when a client waits: it is then inside its SMTP exchange.
    """

    def __init__(self, sessions: int = 1_000_000) -> None:
        super().__init__()
        self.release = threading.Event()
        self.reached = threading.Event()
        self.sessions = sessions

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sessions > 0:
            self.sessions -= 1
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, HOLD_S)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@pytest.fixture
def held_server():
    """An SMTP server holding its answers (``.inbox.release.set()`` lets them go)."""
    server = SMTPServer()
    server.inbox = HeldInbox()
    server.start()
    yield server
    server.inbox.release.set()
    server.stop()


def queue_mails(app, count: int) -> list[int]:
    """``count`` mails in the outbox, committed; their ids."""
    with app.test_request_context():
        rows = [
            mail.compose(f"membre{n}@exemple.org", f"Courrier {n}", "notification")
            for n in range(count)
        ]
        ids = mail.queue_rows(rows)
        db.session.commit()
    return ids


def message_ids(server) -> Counter:
    """How many times each Message-ID arrived."""
    return Counter(message["Message-ID"] for message in server.inbox._messages)


def wait_for(condition, timeout: float = 60.0, step: float = 0.05) -> None:
    """Wait until ``condition()`` is true (fails after ``timeout`` s: something is stuck)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(step)
