"""Sanctions (warn, silence, suspend, ban), lifting them, and moderators' private notes.

The ``sanctions`` rows are the history; ``users.silenced_until`` and
``users.suspended_until`` hold the current state so that rules need no query.
Suspending or banning bumps the user's session version: open sessions end at once.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.accounts.services import end_other_sessions
from forum.db import utcnow
from forum.extensions import db
from forum.moderation import log
from forum.moderation.models import FOREVER, Sanction, SanctionKind, UserNote
from forum.moderation.services import check_reason
from forum.notifications.fanout import notify_moderation
from forum.notifications.models import ModerationEvent
from forum.permissions import Action, ensure
from forum.refusals import Refused

MAX_DAYS = 3650


def sanction(
    actor: User,
    target: User,
    kind: str,
    days: int | None,
    reason: str,
    *,
    commit: bool = True,
) -> Sanction:
    """Warn, silence (``days``), suspend (``days``) or ban ``target``.

    :raise Refused: unknown kind, missing or out-of-range days, no reason.
    :raise 403: ``actor`` may not sanction ``target`` (an admin, themselves…).
    """
    ensure(actor, Action.USER_SANCTION, target)
    if kind not in {k.value for k in SanctionKind}:
        raise Refused(_("Choisissez le type de sanction dans la liste."))
    reason = check_reason(reason)
    now = utcnow()
    ends_at = None
    if kind in (SanctionKind.SILENCE, SanctionKind.SUSPEND):
        if days is None or not 1 <= days <= MAX_DAYS:
            raise Refused(
                _("Indiquez une durée entre 1 et %(max)d jours pour cette sanction.", max=MAX_DAYS)
            )
        ends_at = now + timedelta(days=days)
    elif kind == SanctionKind.BAN:
        ends_at = FOREVER
    row = Sanction(
        user_id=target.id, moderator_id=actor.id, kind=kind, reason=reason, ends_at=ends_at
    )
    db.session.add(row)
    if kind == SanctionKind.SILENCE:
        target.silenced_until = ends_at
    elif kind in (SanctionKind.SUSPEND, SanctionKind.BAN):
        target.suspended_until = ends_at
        end_other_sessions(target)
    db.session.flush()
    log.record(
        actor,
        f"user:{kind}",
        user_id=target.id,
        reason=reason,
        sanction=row.id,
        days=days,
        ends_at=ends_at,
    )
    notify_moderation([target.id], ModerationEvent.SANCTION, sanction_kind=kind, reason=reason)
    if commit:
        db.session.commit()
    return row


def lift(actor: User, target: User, reason: str) -> list[int]:
    """End every running silence, suspension or ban of ``target``.

    :raise Refused: nothing to lift, or no reason.
    :raise 403: ``actor`` may not (nobody lifts their own sanction).
    """
    ensure(actor, Action.USER_LIFT, target)
    reason = check_reason(reason)
    now = utcnow()
    ids = list(
        db.session.execute(
            update(Sanction)
            .where(
                Sanction.user_id == target.id,
                Sanction.lifted_at.is_(None),
                Sanction.kind != SanctionKind.WARN,
                Sanction.ends_at > now,
            )
            .values(lifted_at=now, lifted_by_id=actor.id)
            .returning(Sanction.id)
        ).scalars()
    )
    if not ids:
        db.session.rollback()
        raise Refused(_("Ce compte n'a aucune sanction en cours."))
    target.silenced_until = None
    target.suspended_until = None
    log.record(actor, "user:lift", user_id=target.id, reason=reason, sanctions=ids)
    db.session.commit()
    return ids


def add_note(actor: User, target: User, body: str) -> UserNote:
    """A private note on ``target``, for moderators. :raise Refused: empty or too long."""
    ensure(actor, Action.USER_HISTORY, target)
    body = (body or "").strip()
    if not body or "\x00" in body or len(body) > 5000:
        raise Refused(_("La note doit contenir entre 1 et 5 000 caractères, sans caractère nul."))
    note = UserNote(user_id=target.id, author_id=actor.id, body=body)
    db.session.add(note)
    log.record(actor, "user:note", user_id=target.id)
    db.session.commit()
    return note


def history(target: User) -> list[Sanction]:
    return list(
        db.session.execute(
            select(Sanction)
            .where(Sanction.user_id == target.id)
            .order_by(Sanction.created_at.desc(), Sanction.id.desc())
        ).scalars()
    )
