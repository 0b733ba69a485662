"""*Mises en relation*: contact requests between organisations, and their mediation.

A member of one organisation asks another for a contact (from an offer, a need or the
organisation's page); the other side's representatives accept or decline. On acceptance
a private conversation opens (:func:`open_conversation`, the one place that calls the
conversations' services). With mediation, or when a party asks for it later, the request
waits in the mediators' queue; a mediator takes it, joins the conversation and closes it
with an outcome. Each function is one unit of work and commits once; the job that
notifies is written in the same transaction (:mod:`forum.directory.notify`) and runs
right after the commit.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from forum.accounts.models import FAMILY_LABELS, Family, Role, User
from forum.db import utcnow
from forum.directory import notify
from forum.directory.models import (
    CONTACT_EXPIRY,
    DECLINE_COOLDOWN,
    ContactRequest,
    ContactStatus,
    Mediator,
    MemberRole,
    Offer,
    Organisation,
    Outcome,
)
from forum.extensions import db
from forum.messages import services as messages
from forum.messages.models import Conversation
from forum.moderation import log
from forum.notifications.models import DirectoryEvent
from forum.permissions import Action, ensure, memberships
from forum.refusals import Refused

MESSAGE_LENGTH = (10, 5000)
#: Requests one member may send per day: fewer while the account is new.
DAILY_LIMIT, DAILY_LIMIT_NEW = 10, 3
NEW_ACCOUNT = timedelta(days=7)


def _clean(text: str | None, low: int, high: int, what: str) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise Refused(_("Le message contient un caractère nul : retirez-le puis réessayez."))
    if not low <= len(text) <= high:
        raise Refused(
            _(
                "%(what)s doit faire entre %(low)d et %(high)d caractères.",
                what=what,
                low=low,
                high=high,
            )
        )
    return text


def _speaking_for(user: User, target: Organisation, from_slug: str | None) -> Organisation:
    """The organisation ``user`` asks for: the one named, else the first they represent."""
    roles = memberships(user)
    allowed = [
        org_id
        for org_id, role in roles.items()
        if role in (MemberRole.REPRESENTATIVE, MemberRole.MEMBER) and org_id != target.id
    ]
    rows = list(
        db.session.execute(
            select(Organisation).where(
                Organisation.id.in_(allowed), Organisation.merged_into_id.is_(None)
            )
        ).scalars()
    )
    if from_slug:
        rows = [org for org in rows if org.slug == from_slug]
    if not rows:
        raise Refused(_("Choisissez l'une de vos organisations pour faire la demande."))
    rows.sort(key=lambda org: (roles[org.id] != MemberRole.REPRESENTATIVE, org.name, org.id))
    return rows[0]


def _check_pace(user: User, source: Organisation, target: Organisation, now) -> None:
    recent = db.session.execute(
        select(func.count(ContactRequest.id)).where(
            ContactRequest.requester_id == user.id,
            ContactRequest.created_at >= now - timedelta(days=1),
        )
    ).scalar_one()
    new = user.created_at is not None and now - user.created_at < NEW_ACCOUNT
    if recent >= (DAILY_LIMIT_NEW if new else DAILY_LIMIT):
        raise Refused(
            _(
                "Vous avez déjà envoyé %(count)d demandes aujourd'hui : "
                "attendez demain pour en envoyer d'autres.",
                count=recent,
            )
        )
    previous = db.session.execute(
        select(ContactRequest.status, ContactRequest.answered_at)
        .where(
            ContactRequest.from_organisation_id == source.id,
            ContactRequest.to_organisation_id == target.id,
        )
        .order_by(ContactRequest.id.desc())
        .limit(1)
    ).first()
    if previous is None:
        return
    status, answered_at = previous
    if status == ContactStatus.PENDING:
        raise Refused(_("Une demande de votre organisation attend déjà sa réponse."))
    if status == ContactStatus.DECLINED and answered_at and now - answered_at < DECLINE_COOLDOWN:
        raise Refused(
            _(
                "Cette organisation a décliné votre dernière demande : vous pourrez en "
                "faire une nouvelle à partir du %(date)s.",
                date=(answered_at + DECLINE_COOLDOWN).strftime("%d/%m/%Y"),
            )
        )


def request_contact(
    user: User,
    target: Organisation,
    message: str,
    *,
    mediation: bool = False,
    offer: Offer | None = None,
    from_organisation: str | None = None,
) -> ContactRequest:
    """Ask ``target`` (or the organisation of ``offer``) for a *mise en relation*.

    :raise 403: ``user`` belongs to no other organisation, or may not write.
    :raise Refused: bad message, too many requests, a pending one, or declined less
        than 90 days ago.
    """
    if offer is not None:
        ensure(user, Action.OFFER_CONTACT, offer)
        target = offer.organisation
    else:
        ensure(user, Action.ORGANISATION_CONTACT, target)
    message = _clean(message, *MESSAGE_LENGTH, _("Le message"))
    source = _speaking_for(user, target, from_organisation)
    now = utcnow()
    _check_pace(user, source, target, now)
    request = ContactRequest(
        requester_id=user.id,
        from_organisation_id=source.id,
        to_organisation_id=target.id,
        offer_id=offer.id if offer is not None else None,
        message=message,
        mediation=bool(mediation),
        mediation_asked_at=now if mediation else None,
        created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    notify.contact(request, DirectoryEvent.CONTACT_NEW, notify.representatives(target.id))
    db.session.commit()
    return request


def _pending(request: ContactRequest) -> None:
    if request.status != ContactStatus.PENDING:
        raise Refused(_("Cette demande a déjà reçu sa réponse."))


def accept(user: User, request: ContactRequest, message: str = "") -> ContactRequest:
    """Accept: a private conversation opens between the requester and the representatives.

    :raise 403: ``user`` does not represent the organisation asked.
    """
    ensure(user, Action.CONTACT_ANSWER, request)
    message = (message or "").strip()[:5000]
    now = utcnow()
    request.status = ContactStatus.ACCEPTED.value
    request.answer, request.answered_at, request.answered_by_id = message, now, user.id
    request.conversation_id = open_conversation(request, user, message)
    notify.contact(request, DirectoryEvent.CONTACT_ACCEPTED, [request.requester_id])
    db.session.commit()
    return request


def decline(user: User, request: ContactRequest, message: str = "") -> ContactRequest:
    """Decline, with a message; the same organisation may not ask again for 90 days.

    :raise 403: ``user`` does not represent the organisation asked.
    """
    ensure(user, Action.CONTACT_ANSWER, request)
    request.status = ContactStatus.DECLINED.value
    request.answer = (message or "").strip()[:5000]
    request.answered_at, request.answered_by_id = utcnow(), user.id
    notify.contact(request, DirectoryEvent.CONTACT_DECLINED, [request.requester_id])
    db.session.commit()
    return request


def ask_mediation(user: User, request: ContactRequest) -> ContactRequest:
    """Either party sends the request to the mediators' queue.

    :raise 403: not a party, or mediation already asked.
    """
    ensure(user, Action.CONTACT_ASK_MEDIATION, request)
    request.mediation = True
    request.mediation_asked_at = utcnow()
    db.session.commit()
    return request


def take(mediator: User, request: ContactRequest) -> ContactRequest:
    """A mediator takes the request and joins its conversation (if one is open).

    :raise 403: not a mediator, or already taken.
    """
    ensure(mediator, Action.CONTACT_TAKE, request)
    request.mediator_id = mediator.id
    request.taken_at = utcnow()
    join_conversation(request, mediator)
    log.record(mediator, "contact:take", contact_request=request.id)
    notify.contact(request, DirectoryEvent.MEDIATION_TAKEN, _parties(request))
    db.session.commit()
    return request


def close(mediator: User, request: ContactRequest, outcome: str, summary: str) -> ContactRequest:
    """The mediator closes the request with an outcome and a summary for both sides.

    :raise 403: not the mediator who took it.
    :raise Refused: unknown outcome, or no summary.
    """
    ensure(mediator, Action.CONTACT_CLOSE, request)
    if outcome not in {o.value for o in Outcome}:
        raise Refused(_("Choisissez une issue : accord, pas de suite ou orientation."))
    request.summary = _clean(summary, 5, 5000, _("Le résumé"))
    request.outcome = outcome
    request.closed_at = utcnow()
    log.record(mediator, "contact:close", contact_request=request.id, outcome=outcome)
    notify.contact(request, DirectoryEvent.MEDIATION_CLOSED, _parties(request))
    db.session.commit()
    return request


def _parties(request: ContactRequest) -> list[int]:
    return [request.requester_id, *notify.representatives(request.to_organisation_id)]


def expire(now=None, *, commit: bool = True) -> int:
    """Requests unanswered for 30 days expire; their requesters are told. Returns how many.

    The requesters' notifications and mails are written in the same transaction as the
    expiry. ``commit=False``: the caller commits (the worker's hourly housekeeping).
    """
    now = now or utcnow()
    stale = list(
        db.session.execute(
            select(ContactRequest).where(
                ContactRequest.status == ContactStatus.PENDING.value,
                ContactRequest.created_at < now - CONTACT_EXPIRY,
            )
        ).scalars()
    )
    if not stale:
        return 0
    db.session.execute(
        update(ContactRequest)
        .where(ContactRequest.id.in_([r.id for r in stale]))
        .values(status=ContactStatus.EXPIRED.value)
    )
    for request in stale:
        notify.contact_now(request, DirectoryEvent.CONTACT_EXPIRED, [request.requester_id])
    if commit:
        db.session.commit()
    return len(stale)


# --- Conversations -----------------------------------------------------------------------


def open_conversation(request: ContactRequest, accepted_by: User, message: str) -> int | None:
    """Open the private conversation of an accepted request; returns its id.

    The one call site of the conversations' services: the requester and the
    representatives of the organisation asked, titled after the offer or need.
    """
    others = [
        db.session.get(User, user_id)
        for user_id in notify.representatives(request.to_organisation_id)
        if user_id != accepted_by.id
    ]
    requester = db.session.get(User, request.requester_id)
    body = message or _("Bonjour, nous acceptons volontiers votre demande de mise en relation.")
    conversation = messages.start_conversation(
        accepted_by,
        [requester, *others],
        request.subject,
        f"> {request.message}\n\n{body}",
        origin=f"contact:{request.id}",
        commit=False,  # with the acceptance
    )
    return conversation.id


def join_conversation(request: ContactRequest, mediator: User) -> None:
    """The mediator joins the request's conversation (when one is open)."""
    if request.conversation_id is None:
        return
    conversation = db.session.get(Conversation, request.conversation_id)
    starter = db.session.get(User, request.answered_by_id) if request.answered_by_id else None
    if conversation is not None and starter is not None:
        # Invited by the one who opened it; the mediator reads the exchange from its start.
        messages.add_participant(
            conversation, mediator, by=starter, visible_from_now=False, commit=False
        )


# --- Mediators ---------------------------------------------------------------------------


def set_mediator(admin: User | None, user: User, on: bool = True) -> None:
    """Mark a moderator as mediator, or no longer. ``admin`` None: the command line.

    :raise 403: ``admin`` is not an admin.
    :raise Refused: ``user`` is not a moderator.
    """
    if admin is not None:
        ensure(admin, Action.MEDIATOR_SET, user)
    row = db.session.get(Mediator, user.id)
    if on:
        if user.role not in (Role.MODERATOR, Role.ADMIN):
            raise Refused(
                _(
                    "Seul·es les modérateur·rices peuvent être médiateur·rices : %(name)s ne l'est pas.",
                    name=user.username,
                )
            )
        if row is None:
            db.session.add(Mediator(user_id=user.id, appointed_by_id=getattr(admin, "id", None)))
    elif row is not None:
        db.session.delete(row)
    log.record(admin, "mediator:set" if on else "mediator:unset", user_id=user.id)
    db.session.commit()


# --- The report -------------------------------------------------------------------------


@dataclass
class Report:
    by_month: dict[str, Counter] = field(default_factory=dict)
    by_pair: dict[str, Counter] = field(default_factory=dict)
    totals: Counter = field(default_factory=Counter)
    median_answer_hours: float | None = None


def _row_counts(status: str, mediation: bool, outcome: str | None) -> Counter:
    counts = Counter(requests=1)
    counts[status] += 1
    if mediation:
        counts["mediated"] += 1
    if outcome:
        counts[outcome] += 1
    return counts


def report() -> Report:
    """Counts of *mises en relation*: by month, by pair of families, by status and outcome,
    and the median time to a first answer. Never their content. Two queries."""
    source, target = Organisation.__table__.alias("source"), Organisation.__table__.alias("target")
    rows = db.session.execute(
        select(
            ContactRequest.created_at,
            ContactRequest.answered_at,
            ContactRequest.status,
            ContactRequest.mediation,
            ContactRequest.outcome,
            source.c.family,
            target.c.family,
        )
        .join(source, source.c.id == ContactRequest.from_organisation_id)
        .join(target, target.c.id == ContactRequest.to_organisation_id)
        .order_by(ContactRequest.created_at)
    ).all()
    result = Report()
    by_month: dict[str, Counter] = defaultdict(Counter)
    by_pair: dict[str, Counter] = defaultdict(Counter)
    delays = []
    for created, answered, status, mediation, outcome, from_family, to_family in rows:
        counts = _row_counts(status, mediation, outcome)
        by_month[created.strftime("%Y-%m")].update(counts)
        pair = f"{FAMILY_LABELS[Family(from_family)]} → {FAMILY_LABELS[Family(to_family)]}"
        by_pair[pair].update(counts)
        result.totals.update(counts)
        if answered is not None:
            delays.append((answered - created).total_seconds() / 3600)
    result.by_month = dict(sorted(by_month.items(), reverse=True))
    result.by_pair = dict(sorted(by_pair.items()))
    result.median_answer_hours = round(statistics.median(delays), 1) if delays else None
    return result
