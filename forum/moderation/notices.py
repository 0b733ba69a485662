"""What a sanctioned user is told: the kind, the reason and the end date, in French."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from forum.extensions import db
from forum.moderation.models import FOREVER, Sanction, SanctionKind


def active_sanction(user, kinds: tuple[str, ...]) -> Sanction | None:
    """The latest sanction of one of ``kinds`` still running for ``user``."""
    return db.session.execute(
        select(Sanction)
        .where(
            Sanction.user_id == user.id,
            Sanction.kind.in_(kinds),
            Sanction.lifted_at.is_(None),
        )
        .order_by(Sanction.id.desc())
        .limit(1)
    ).scalar()


def _until(ends_at) -> str:
    if ends_at is None or ends_at >= FOREVER:
        return _("sans date de fin")
    return _("jusqu'au %(date)s", date=format_datetime(ends_at, "d MMMM y 'à' HH:mm"))


def sanction_notice(user) -> str:
    """The sentence shown on the 403 page of a silenced, suspended or banned user."""
    if user.is_suspended:
        sanction = active_sanction(user, (SanctionKind.SUSPEND, SanctionKind.BAN))
        ends_at = user.suspended_until
        text = _("Votre compte est banni") if ends_at >= FOREVER else _("Votre compte est suspendu")
    else:
        sanction = active_sanction(user, (SanctionKind.SILENCE,))
        ends_at = user.silenced_until
        text = _("Votre compte est mis en silence : vous pouvez lire, pas écrire ni signaler")
    reason = sanction.reason if sanction else ""
    return _(
        "%(text)s, %(until)s. Motif : %(reason)s. Pour en parler, écrivez à l'équipe de "
        "modération.",
        text=text,
        until=_until(ends_at),
        reason=reason or _("non précisé"),
    )
