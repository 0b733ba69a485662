"""Reports of private messages, through the forum's report flow and moderation queue.

A report names one message; the queue shows it with the five messages before it. That is
all a moderator ever reads of a private conversation, and only global moderators (messages
belong to no theme); every such reading is written to the moderation log
(``message:view-context``).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db
from forum.messages.models import Message, MessageKind
from forum.moderation import log
from forum.moderation.models import Report, ReportStatus
from forum.moderation.reports import _check_report, _close_reports, _reporters
from forum.moderation.services import check_reason
from forum.notifications.fanout import notify_moderation
from forum.notifications.models import ModerationEvent
from forum.permissions import Action, ensure
from forum.refusals import Refused

#: Messages shown before the reported one.
CONTEXT = 5


def open_key(message: Message) -> str:
    return f"m{message.id}"


def report_message(reporter: User, message: Message, reason: str, note: str = "") -> Report:
    """Report ``message`` to the moderation.

    :raise Refused: bad reason or note, or an open report of it by this member already.
    :raise 403: one's own message, a deleted one, a message one cannot read, a sanction.
    """
    ensure(reporter, Action.MESSAGE_REPORT, message)
    reason, note = _check_report(reason, note)
    key = open_key(message)
    already = db.session.execute(
        select(Report.id).where(Report.reporter_id == reporter.id, Report.open_key == key)
    ).scalar()
    if already is not None:
        raise Refused(_("Vous avez déjà signalé ce message ; l'équipe de modération l'examine."))
    report = Report(
        reporter_id=reporter.id,
        message_id=message.id,
        user_id=message.author_id,
        reason=reason,
        note=note,
        open_key=key,
    )
    db.session.add(report)
    db.session.commit()
    return report


def context_of(message: Message) -> list[Message]:
    """The reported message and the (at most) five messages before it, oldest first."""
    before = list(
        db.session.execute(
            select(Message)
            .where(
                Message.conversation_id == message.conversation_id,
                Message.id < message.id,
                Message.kind == MessageKind.MESSAGE.value,
            )
            .order_by(Message.id.desc())
            .limit(CONTEXT)
        ).scalars()
    )
    return [*reversed(before), message]


def review(moderator: User, message: Message) -> tuple[list[Message], list[Report]]:
    """What a moderator reads of a reported message (and the log entry that says so).

    :raise Refused: nobody ever reported this message (nothing to read).
    """
    ensure(moderator, Action.MESSAGE_REVIEW, message)
    reports = list(
        db.session.execute(
            select(Report).where(Report.message_id == message.id).order_by(Report.id)
        ).scalars()
    )
    if not reports:
        raise Refused(_("Ce message n'a pas été signalé."))
    context = context_of(message)
    log.record(
        moderator,
        "message:view-context",
        user_id=message.author_id,
        reason="",
        message_id=message.id,
        conversation_id=message.conversation_id,
        shown=[item.id for item in context],
        reports=[report.id for report in reports],
    )
    db.session.commit()
    return context, [report for report in reports if report.status == ReportStatus.OPEN]


def decide_message(moderator: User, message: Message, decision: str, reason: str) -> None:
    """Close the open reports of ``message``: ``dismiss``, or ``hide`` the message.

    :raise Refused: unknown decision, no reason, already handled.
    """
    ensure(moderator, Action.MESSAGE_REVIEW, message)
    if decision not in ("dismiss", "hide"):
        raise Refused(_("Décision inconnue."))
    reason = check_reason(reason)
    status = ReportStatus.DISMISSED if decision == "dismiss" else ReportStatus.UPHELD
    ids = _close_reports(moderator, Report.message_id == message.id, status, reason)
    if decision == "hide" and message.hidden_at is None:
        db.session.execute(
            update(Message).where(Message.id == message.id).values(hidden_at=utcnow())
        )
    log.record(
        moderator,
        "report:dismiss" if decision == "dismiss" else "message:hide",
        user_id=message.author_id,
        reason=reason,
        message_id=message.id,
        conversation_id=message.conversation_id,
        reports=ids,
        decision=decision,
    )
    notify_moderation(_reporters(ids), ModerationEvent.REPORT_HANDLED)
    db.session.commit()
