"""A real SMTP server on loopback (aiosmtpd) and an app that mails through it.

Requests never send mail: the worker does. ``mail_app`` stands for a running worker
by letting the mailbox run it (:func:`forum.jobs.services.run_pending`) each time a
test reads what arrived, so a test reads the mails as a member would find them.
"""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message received, parsed."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        #: The app whose worker runs before each read (None: read as is).
        self.worker_app = None

    @property
    def messages(self) -> list[EmailMessage]:
        if self.worker_app is not None:
            from forum.jobs.services import run_pending

            with self.worker_app.app_context():
                run_pending()
        return self._messages

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self._messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SMTPServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


@pytest.fixture
def smtp_server():
    """A running SMTP server on a free loopback port; ``.messages`` holds what it received."""
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def mail_config(port: int) -> dict:
    return {
        "FORUM_MAIL_SERVER": "127.0.0.1",
        "FORUM_MAIL_PORT": port,
        "FORUM_MAIL_FROM": "Rencontres sociales <forum@exemple.org>",
        "FORUM_MAIL_TIMEOUT": 5,
        "FORUM_BASE_URL": "http://forum.exemple.org",
    }


@pytest.fixture
def mail_app(make_app, smtp_server):
    """The forum mailing through ``smtp_server``, its worker run when the mailbox is read."""
    app = make_app(**mail_config(smtp_server.port))
    smtp_server.inbox.worker_app = app
    return app


@pytest.fixture
def mail_client(mail_app):
    return mail_app.test_client()


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def local_path(url: str) -> str:
    """The path (and query) of an absolute link in a mail, for the test client."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
