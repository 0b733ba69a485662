"""Mails: written to the outbox in the event's transaction, sent after commit over SMTP.

:func:`queue` adds a rendered mail to the outbox (the caller commits; :func:`queue_rows`
adds several, made by :func:`compose`, in one statement);
:func:`deliver` sends unsent mails through :mod:`smtplib`, or writes them to the
log when ``FORUM_MAIL_SERVER`` is unset (laptop default; one ``UPDATE … RETURNING``
marks them sent and returns what to log). A failure leaves the
mail in the outbox with the error; ``flask forum send-mail`` tries again, up to
:data:`MAX_ATTEMPTS` times. Nothing here raises into a request.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import DateTime, bindparam, insert, select, update

from forum.db import utcnow, write_intent
from forum.extensions import db
from forum.notifications.models import OutboxMail

#: A mail still failing after this many tries stays in the outbox, not retried.
MAX_ATTEMPTS = 10


def mail_enabled() -> bool:
    return bool(current_app.config.get("FORUM_MAIL_SERVER"))


@contextmanager
def link_context() -> Iterator[None]:
    """A request context for ``url_for(..., _external=True)`` outside requests (CLI)."""
    if has_request_context():
        with nullcontext():
            yield
        return
    with current_app.test_request_context(base_url=current_app.config["FORUM_BASE_URL"]):
        yield


def external_url(endpoint: str, **values) -> str:
    with link_context():
        return url_for(endpoint, _external=True, **values)


# -- signed links -----------------------------------------------------------------------------


def sign(salt: str, payload, *, timed: bool = False) -> str:
    secret = current_app.config["SECRET_KEY"]
    serializer = URLSafeTimedSerializer(secret, salt) if timed else URLSafeSerializer(secret, salt)
    return serializer.dumps(payload)


def unsign(salt: str, token: str, *, max_age: int | None = None):
    """The payload of ``token``, or None when it is forged, damaged or too old."""
    secret = current_app.config["SECRET_KEY"]
    try:
        if max_age is not None:
            return URLSafeTimedSerializer(secret, salt).loads(token, max_age=max_age)
        return URLSafeSerializer(secret, salt).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None


# -- writing and sending ----------------------------------------------------------------------


def render(template: str, locale: str | None, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``notifications/mail/<template>``, in ``locale``."""
    with link_context(), force_locale(locale or "fr"):
        context.setdefault("site_name", current_app.config["FORUM_SITE_NAME"])
        text = render_template(f"notifications/mail/{template}.txt", **context)
        html = render_template(f"notifications/mail/{template}.html", **context)
    return text, html


def compose(
    to_address: str,
    subject: str,
    template: str,
    *,
    user=None,
    unsubscribe_url: str = "",
    **context,
) -> dict:
    """Render a mail into an outbox row, not stored yet (:func:`queue`, :func:`queue_rows`)."""
    locale = getattr(user, "locale", None)
    text, html = render(template, locale, user=user, unsubscribe_url=unsubscribe_url, **context)
    return {
        "user_id": getattr(user, "id", None),
        "to_address": to_address,
        "subject": subject[:300],
        "text_body": text,
        "html_body": html,
        "unsubscribe_url": unsubscribe_url,
    }


def queue(to_address: str, subject: str, template: str, **kwargs) -> OutboxMail:
    """Render a mail and add it to the outbox; the caller commits, then :func:`deliver`."""
    mail = OutboxMail(**compose(to_address, subject, template, **kwargs))
    db.session.add(mail)
    return mail


#: Built once, on the table: the fan-out of every reply that mails someone runs it.
_QUEUE_ROWS = insert(OutboxMail.__table__).returning(OutboxMail.__table__.c.id)


def queue_rows(rows: list[dict]) -> list[int]:
    """Add mails made by :func:`compose` to the outbox in one statement; returns their ids.

    The caller commits, then :func:`deliver`.
    """
    if not rows:
        return []
    return list(db.session.execute(_QUEUE_ROWS, rows).scalars())


#: Long headers are kept whole, never RFC 2047-encoded: mail clients read the
#: List-Unsubscribe URL as it is (RFC 8058), and 998 characters is SMTP's line limit.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def build_message(mail: OutboxMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config["FORUM_MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(
        f"outbox-{mail.id}", urlsplit(config["FORUM_BASE_URL"]).hostname or "localhost"
    )
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    return message


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(
        config["FORUM_MAIL_SERVER"], config["FORUM_MAIL_PORT"], timeout=config["FORUM_MAIL_TIMEOUT"]
    )
    if config["FORUM_MAIL_USE_TLS"]:
        smtp.starttls()
    if config["FORUM_MAIL_USERNAME"]:
        smtp.login(config["FORUM_MAIL_USERNAME"], config["FORUM_MAIL_PASSWORD"] or "")
    return smtp


def _failed(mails: Iterable[OutboxMail], error: Exception) -> None:
    for mail in mails:
        mail.attempts += 1
        mail.last_error = f"{type(error).__name__}: {error}"[:500]


def deliver(ids: Iterable[int] | None = None, *, limit: int = 500) -> tuple[int, int]:
    """Send unsent mails (those of ``ids``, else every one due); returns (sent, failed).

    Commits its own bookkeeping; never raises (an error is kept on the mail).
    """
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0, 0
    if not mail_enabled():
        return _to_log(ids, limit), 0
    # One sender at a time takes a mail: on SQLite the write lock is held from the read.
    with write_intent():
        return _send(ids, limit)


def _due(ids: list[int] | None, limit: int):
    stmt = select(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS
    )
    if ids is not None:
        stmt = stmt.where(OutboxMail.id.in_(ids))
    return stmt.order_by(OutboxMail.id).limit(limit)


def _log_due_statement(among_ids: bool):
    """Mark the due mails (among ``ids``, or all) sent, returning what to log."""
    outbox = OutboxMail.__table__
    due = select(outbox.c.id).where(outbox.c.sent_at.is_(None), outbox.c.attempts < MAX_ATTEMPTS)
    if among_ids:
        due = due.where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    due = due.order_by(outbox.c.id).limit(bindparam("limit"))
    return (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(sent_at=bindparam("now", type_=DateTime))
        .returning(outbox.c.id, outbox.c.to_address, outbox.c.subject, outbox.c.text_body)
    )


#: Built once (every reply that mails someone runs one), on the table: the commit that
#: follows expires the session's objects.
_LOG_DUE = {among_ids: _log_due_statement(among_ids) for among_ids in (True, False)}


def _to_log(ids: list[int] | None, limit: int) -> int:
    """No mail server: write the due mails to the log, marked sent in one statement."""
    params = {"limit": limit, "now": utcnow()}
    if ids is not None:
        params["ids"] = ids
    rows = db.session.execute(_LOG_DUE[ids is not None], params).all()
    for row in sorted(rows):
        current_app.logger.info(
            "mail (no FORUM_MAIL_SERVER) to %s: %s\n%s", row.to_address, row.subject,
            row.text_body,
        )  # fmt: skip
    db.session.commit()
    return len(rows)


def _send(ids: list[int] | None, limit: int) -> tuple[int, int]:
    mails = list(db.session.execute(_due(ids, limit)).scalars())
    if not mails:
        return 0, 0
    sent = failed = 0
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("SMTP server unreachable, %d mail(s) wait: %s", len(mails), exc)
        _failed(mails, exc)
        db.session.commit()
        return 0, len(mails)
    try:
        for mail in mails:
            try:
                smtp.send_message(build_message(mail))
            except (OSError, smtplib.SMTPException) as exc:
                _failed([mail], exc)
                failed += 1
            else:
                mail.sent_at = utcnow()
                sent += 1
    finally:
        with suppress(OSError, smtplib.SMTPException):
            smtp.quit()
        db.session.commit()
    return sent, failed


def deliver_quietly(ids: Iterable[int]) -> None:
    """:func:`deliver` after a request's commit: errors are logged, never raised."""
    ids = list(ids)[: current_app.config["FORUM_MAIL_INLINE_LIMIT"]]
    if not ids:
        return
    try:
        deliver(ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("sending mails after commit failed; send-mail will retry")
