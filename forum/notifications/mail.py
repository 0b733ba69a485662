"""Mails: written to the outbox in the event's transaction, sent by the worker over SMTP.

:func:`queue` adds a rendered mail to the outbox (the caller commits; :func:`queue_rows`
adds several, made by :func:`compose`, in one statement). Requests never talk to the
SMTP server: ``flask forum worker`` (or ``send-mail``, or :func:`deliver` in tests)
sends what is due. When ``FORUM_MAIL_SERVER`` is unset (laptop default) there is no
network to wait for, so :func:`deliver_quietly` writes the request's mails to the log
at once (one ``UPDATE … RETURNING`` marks them sent and returns what to log).

Each mail is sent exactly once by however many senders on however many machines:

1. *claim* — one short transaction marks up to ``FORUM_WORKER_BATCH`` due mails as
   being sent, with a random claim token, a lease (``FORUM_WORKER_LEASE``) and one
   more attempt; PostgreSQL picks them with ``FOR UPDATE SKIP LOCKED``, SQLite under
   its write lock (``BEGIN IMMEDIATE``), released at once by the commit;
2. *send* — over SMTP, outside any transaction, each mail with its own Message-ID
   (``<outbox-ID.CREATED@host>``, the same for every try);
3. *mark sent* — right after the server accepted it, one short transaction, only
   while the claim is still ours.

A sender that dies between 1 and 3 leaves its claims to expire: another takes them
after the lease. The one window left: the server accepted a mail and the sender died
(or lost the database) before step 3 — the mail is sent again after the lease, with
the same Message-ID, which receiving servers and clients use to drop the duplicate.
A failure clears the claim and waits (1, 2, 4 … 60 minutes) before the next try, up
to :data:`MAX_ATTEMPTS` tries. Nothing here raises into a request.
"""

from __future__ import annotations

import functools
import secrets
import smtplib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import DateTime, and_, bindparam, insert, or_, select, update

from forum.db import claimable, utcnow, write_intent
from forum.extensions import db
from forum.notifications.models import OutboxMail
from forum.templating import current_page_locale

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


@functools.lru_cache(maxsize=64)
def _serializer(secret: str, salt: str, timed: bool) -> URLSafeSerializer:
    """One serializer per key, salt and kind, built once (each mail signs a link)."""
    return URLSafeTimedSerializer(secret, salt) if timed else URLSafeSerializer(secret, salt)


def sign(salt: str, payload, *, timed: bool = False) -> str:
    return _serializer(current_app.config["SECRET_KEY"], salt, timed).dumps(payload)


def unsign(salt: str, token: str, *, max_age: int | None = None):
    """The payload of ``token``, or None when it is forged, damaged or too old."""
    secret = current_app.config["SECRET_KEY"]
    try:
        if max_age is not None:
            return _serializer(secret, salt, True).loads(token, max_age=max_age)
        return _serializer(secret, salt, False).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None


# -- writing and sending ----------------------------------------------------------------------


def render(template: str, locale: str | None, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``notifications/mail/<template>``, in ``locale``.

    Straight from the Jinja environment: a mail needs none of what Flask adds to a
    page's context (the request, the session), only the environment's globals (``_``,
    ``site_name``) and the mail's language, looked up once for both bodies.
    """
    env = current_app.jinja_env
    with link_context(), force_locale(locale or "fr"):
        context.setdefault("site_name", current_app.config["FORUM_SITE_NAME"])
        context["page_locale"] = current_page_locale()
        text = env.get_template(f"notifications/mail/{template}.txt").render(context)
        html = env.get_template(f"notifications/mail/{template}.html").render(context)
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
    """Render a mail and add it to the outbox; the caller commits (the worker sends it)."""
    mail = OutboxMail(**compose(to_address, subject, template, **kwargs))
    db.session.add(mail)
    return mail


#: Built once, on the table: the fan-out of every reply that mails someone runs it.
_QUEUE_ROWS = insert(OutboxMail.__table__).returning(OutboxMail.__table__.c.id)


def queue_rows(rows: list[dict]) -> list[int]:
    """Add mails made by :func:`compose` to the outbox in one statement; returns their ids.

    The caller commits; the worker sends them.
    """
    if not rows:
        return []
    return list(db.session.execute(_QUEUE_ROWS, rows).scalars())


#: The same, without the ids (no RETURNING).
_QUEUE_ROWS_QUIETLY = insert(OutboxMail.__table__).inline()


def queue_rows_logged(rows: list[dict]) -> list[dict]:
    """:func:`queue_rows`, for a request that writes its mails with its own change.

    With no mail server (nothing on the network to wait for), the first
    ``FORUM_MAIL_INLINE_LIMIT`` are stored sent already, in the same statement, and
    returned to be written to the log once the transaction commits (:func:`log_sent`):
    the one write transaction :func:`deliver_quietly` would take after the commit is
    saved. With a mail server, all wait for the worker. Returns the mails to log.
    """
    if not rows:
        return []
    logged: list[dict] = []
    if not mail_enabled():
        logged = rows[: current_app.config["FORUM_MAIL_INLINE_LIMIT"]]
    now = utcnow()
    for index, row in enumerate(rows):
        row["sent_at"] = now if index < len(logged) else None
    db.session.execute(_QUEUE_ROWS_QUIETLY, rows)
    return logged


def log_sent(rows: list[dict]) -> None:
    """After the commit: the mails :func:`queue_rows_logged` stored sent, to the log."""
    for row in rows:
        current_app.logger.info(
            "mail (no FORUM_MAIL_SERVER) to %s: %s\n%s", row["to_address"], row["subject"],
            row["text_body"],
        )  # fmt: skip


#: Long headers are kept whole, never RFC 2047-encoded: mail clients read the
#: List-Unsubscribe URL as it is (RFC 8058), and 998 characters is SMTP's line limit.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)

OUTBOX = OutboxMail.__table__


def message_id(mail_id: int, created_at: datetime) -> str:
    """The Message-ID of an outbox mail: the same at every try, unique across databases."""
    host = urlsplit(current_app.config["FORUM_BASE_URL"]).hostname or "localhost"
    return f"<outbox-{mail_id}.{created_at:%Y%m%d%H%M%S%f}@{host}>"


def build_message(mail) -> EmailMessage:
    """The message of an outbox row (an :class:`OutboxMail` or a claimed row)."""
    config = current_app.config
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config["FORUM_MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(mail.id, mail.created_at)
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


def _due_condition(now_param: str = "now", *, force: bool = False):
    """Unsent, not given up, and neither claimed nor waiting (``force``: waiting is due)."""
    free = or_(
        OUTBOX.c.claimed_until.is_(None),
        OUTBOX.c.claimed_until <= bindparam(now_param, type_=DateTime),
    )
    if force:  # a retry asked for by hand: skip the pause after a failure, not a live claim
        free = or_(free, OUTBOX.c.claim_token.is_(None))
    return and_(OUTBOX.c.sent_at.is_(None), OUTBOX.c.attempts < MAX_ATTEMPTS, free)


def _claim_statement(among_ids: bool, force: bool):
    due = select(OUTBOX.c.id).where(_due_condition(force=force))
    if among_ids:
        due = due.where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    # PostgreSQL: two senders skip each other's rows (forum.db.claimable).
    due = due.order_by(OUTBOX.c.id).limit(bindparam("limit"))
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(claimable(due, "due_mail")))
        .values(
            claim_token=bindparam("token"),
            claimed_until=bindparam("until", type_=DateTime),
            attempts=OUTBOX.c.attempts + 1,
        )
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.to_address,
            OUTBOX.c.subject,
            OUTBOX.c.text_body,
            OUTBOX.c.html_body,
            OUTBOX.c.unsubscribe_url,
            OUTBOX.c.created_at,
            OUTBOX.c.attempts,
        )
    )


_CLAIM = {
    (ids, force): _claim_statement(ids, force) for ids in (True, False) for force in (True, False)
}

_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("mail_id"), OUTBOX.c.claim_token == bindparam("token"))
    .values(sent_at=bindparam("now", type_=DateTime), claim_token=None, last_error="")
)

_RENEW = (
    update(OUTBOX)
    .where(OUTBOX.c.claim_token == bindparam("token"), OUTBOX.c.sent_at.is_(None))
    .values(claimed_until=bindparam("until", type_=DateTime))
    .returning(OUTBOX.c.id)
)

_RELEASE = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        OUTBOX.c.claim_token == bindparam("token"),
    )
    .values(
        claim_token=None,
        claimed_until=bindparam("retry_at", type_=DateTime),
        last_error=bindparam("error"),
    )
)


#: Claimed mails not tried after all (the worker stops): free at once, the try not counted.
_GIVE_BACK = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        OUTBOX.c.claim_token == bindparam("token"),
    )
    .values(claim_token=None, claimed_until=None, attempts=OUTBOX.c.attempts - 1)
)


def retry_delay(attempts: int) -> timedelta:
    """The pause after a failed try: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _write(statement, params):
    """One short write transaction (on SQLite: ``BEGIN IMMEDIATE`` … commit)."""
    with write_intent():
        result = db.session.execute(statement, params)
        rows = result.all() if result.returns_rows else result.rowcount
        db.session.commit()
    return rows


def claim(
    *, ids: list[int] | None = None, limit: int | None = None, now=None, force: bool = False
) -> tuple[str, list]:
    """Claim due mails for this sender: (claim token, rows with what to send)."""
    config = current_app.config
    now = now or utcnow()
    token = secrets.token_hex(16)
    params = {
        "now": now,
        "token": token,
        "until": now + timedelta(seconds=config["FORUM_WORKER_LEASE"]),
        "limit": limit or config["FORUM_WORKER_BATCH"],
    }
    if ids is not None:
        params["ids"] = ids
    rows = _write(_CLAIM[(ids is not None, force)], params)
    return token, sorted(rows)


def _release(token: str, mails: list, error: Exception, now=None) -> None:
    """Give claimed mails back after a failure: tried again after :func:`retry_delay`."""
    if not mails:
        return
    _write(
        _RELEASE,
        {
            "ids": [mail.id for mail in mails],
            "token": token,
            "retry_at": (now or utcnow()) + retry_delay(max(mail.attempts for mail in mails)),
            "error": f"{type(error).__name__}: {error}"[:500],
        },
    )


def deliver(
    ids: Iterable[int] | None = None,
    *,
    limit: int = 500,
    now=None,
    force: bool = False,
    stop: threading.Event | None = None,
) -> tuple[int, int]:
    """Send due mails (those of ``ids``, else any), at most ``limit``; returns (sent, failed).

    Claims them in batches, so that other senders share the work. With ``force``, mails
    waiting after a failure are tried at once (``send-mail``). Never raises for SMTP
    errors (they are kept on the mail); holds no transaction while talking to SMTP.
    Once ``stop`` is set, the mail being sent is finished and the others given back.
    """
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0, 0
    if not mail_enabled():
        return _to_log(ids, limit, now), 0
    sent = failed = 0
    while sent + failed < limit and not (stop and stop.is_set()):
        batch = min(current_app.config["FORUM_WORKER_BATCH"], limit - sent - failed)
        token, mails = claim(ids=ids, limit=batch, now=now, force=force)
        if not mails:
            break
        done, errors = _send(token, mails, now, stop)
        sent, failed = sent + done, failed + errors
        if errors:
            break  # the server is in trouble: leave the rest for later
    return sent, failed


def _send(token: str, mails: list, clock=None, stop=None) -> tuple[int, int]:
    """Send claimed mails on one connection; ``clock``: the caller's "now" (retries)."""
    config = current_app.config
    lease = timedelta(seconds=config["FORUM_WORKER_LEASE"])
    # Renew the claim before a send could outlast it: a send is a handful of SMTP
    # commands, each allowed FORUM_MAIL_TIMEOUT seconds.
    margin = timedelta(seconds=6 * config["FORUM_MAIL_TIMEOUT"] + 5)
    until = utcnow() + lease
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("SMTP server unreachable, %d mail(s) wait: %s", len(mails), exc)
        _release(token, mails, exc, clock)
        return 0, len(mails)
    sent = failed = 0
    try:
        for index, mail in enumerate(mails):
            if stop is not None and stop.is_set():
                _write(_GIVE_BACK, {"ids": [m.id for m in mails[index:]], "token": token})
                break
            now = utcnow()
            if until - now < margin:
                until = now + lease
                ours = {row.id for row in _write(_RENEW, {"token": token, "until": until})}
                if mail.id not in ours:
                    continue  # the lease ran out and someone else took it
            try:
                smtp.send_message(build_message(mail))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                _release(token, [mail], exc, clock)  # this mail only; the connection goes on
                failed += 1
                continue
            except (OSError, smtplib.SMTPException) as exc:
                _release(token, mails[index:], exc, clock)
                failed += len(mails) - index
                break
            if _write(_MARK_SENT, {"mail_id": mail.id, "token": token, "now": utcnow()}):
                sent += 1
            else:
                current_app.logger.warning(
                    "mail %s was sent after its claim expired: another sender may send it "
                    "again (same Message-ID)", mail.id,
                )  # fmt: skip
    finally:
        with suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return sent, failed


def _log_due_statement(among_ids: bool):
    """Mark the due mails (among ``ids``, or all) sent, returning what to log."""
    due = select(OUTBOX.c.id).where(_due_condition())
    if among_ids:
        due = due.where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    due = due.order_by(OUTBOX.c.id).limit(bindparam("limit"))
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(claimable(due, "due_mail")))
        .values(sent_at=bindparam("now", type_=DateTime))
        .returning(OUTBOX.c.id, OUTBOX.c.to_address, OUTBOX.c.subject, OUTBOX.c.text_body)
    )


#: Built once (every reply that mails someone runs one), on the table: the commit that
#: follows expires the session's objects.
_LOG_DUE = {among_ids: _log_due_statement(among_ids) for among_ids in (True, False)}


def _to_log(ids: list[int] | None, limit: int, now=None) -> int:
    """No mail server: write the due mails to the log, marked sent in one statement."""
    params = {"limit": limit, "now": now or utcnow()}
    if ids is not None:
        params["ids"] = ids
    with write_intent():
        rows = db.session.execute(_LOG_DUE[ids is not None], params).all()
        db.session.commit()
    for row in sorted(rows):
        current_app.logger.info(
            "mail (no FORUM_MAIL_SERVER) to %s: %s\n%s", row.to_address, row.subject,
            row.text_body,
        )  # fmt: skip
    return len(rows)


def deliver_quietly(ids: Iterable[int]) -> None:
    """After a request's commit: with no mail server, log its mails now; else nothing.

    With a mail server the worker sends them (``flask forum worker``): a request never
    waits for SMTP. Errors are logged, never raised.
    """
    if mail_enabled():
        return
    ids = list(ids)[: current_app.config["FORUM_MAIL_INLINE_LIMIT"]]
    if not ids:
        return
    try:
        deliver(ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("logging mails after commit failed; the worker will retry")
