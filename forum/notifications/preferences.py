"""Mail preferences per kind of notification, and the one-click unsubscribe link."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import (
    bindparam,
    select,
)

from forum.accounts.models import User
from forum.db import upsert
from forum.extensions import db
from forum.notifications import mail
from forum.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Kind,
    MailPreference,
)
from forum.refusals import Refused

UNSUBSCRIBE_SALT = "forum-unsubscribe"
#: The unsubscribe link of the digest turns off every kind delivered in the digest.
DIGEST = "digest"


_prefs = MailPreference.__table__
#: On the table (plain rows, no ORM step): read for every recipient of every reply.
_PREFERENCES = select(_prefs.c.user_id, _prefs.c.kind, _prefs.c.delivery).where(
    _prefs.c.user_id.in_(bindparam("users", expanding=True))
)


def _preferences(user_ids: list[int]) -> dict[tuple[int, str], str]:
    if not user_ids:
        return {}
    rows = db.session.execute(_PREFERENCES, {"users": user_ids})
    return {(user_id, kind): delivery for user_id, kind, delivery in rows}


def delivery_for(prefs: dict, user_id: int, kind: str) -> Delivery:
    return Delivery(prefs.get((user_id, kind), DEFAULT_DELIVERY[Kind(kind)]))


def unsubscribe_url(user_id: int, kind: str) -> str:
    token = mail.sign(UNSUBSCRIBE_SALT, [user_id, kind])
    return mail.external_url("notifications.unsubscribe", token=token)


def preferences_of(user: User) -> dict[Kind, Delivery]:
    prefs = _preferences([user.id])
    return {kind: delivery_for(prefs, user.id, kind) for kind in DEFAULT_DELIVERY}


def set_preferences(user: User, choices: dict[str, str]) -> None:
    """:raise Refused: an unknown kind or delivery."""
    try:
        parsed = {Kind(kind): Delivery(value) for kind, value in choices.items()}
    except ValueError:
        raise Refused(_("Choix d'envoi inconnu.")) from None
    for kind, delivery in parsed.items():
        stmt = upsert(db.session, MailPreference).values(
            user_id=user.id, kind=kind.value, delivery=delivery.value
        )
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "kind"], set_={"delivery": stmt.excluded.delivery}
            )
        )
    db.session.commit()


def unsubscribe(token: str) -> tuple[User, list[Kind]] | None:
    """Apply a signed unsubscribe link: no login needed. None when the link is not ours."""
    payload = mail.unsign(UNSUBSCRIBE_SALT, token)
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    user_id, kind = payload
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        return None
    if kind == DIGEST:
        current = preferences_of(user)
        kinds = [k for k, delivery in current.items() if delivery == Delivery.DIGEST]
    elif kind in {k.value for k in Kind}:
        kinds = [Kind(kind)]
    else:
        return None
    set_preferences(user, {k.value: Delivery.NEVER.value for k in kinds})
    return user, kinds
