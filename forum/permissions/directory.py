"""The directory: organisations, offers and needs, contact requests, mediation."""

from __future__ import annotations

from sqlalchemy import select

from forum.accounts.models import Role
from forum.db import utcnow
from forum.directory.models import ContactRequest, Mediator, MemberRole, Membership
from forum.extensions import db
from forum.permissions import (
    Action,
    _admin,
    _global_moderator,
    _member,
    _writer,
    rule,
)


def memberships(user) -> dict[int, str]:
    """``{organisation id: role}`` of ``user``'s memberships (pending requests included).

    Kept on the user object: one query per request, only on pages that ask.
    """
    if not user.is_authenticated:
        return {}
    cached = user.__dict__.get("_memberships")
    if cached is None:
        rows = db.session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == user.id)
        )
        cached = {org_id: role for org_id, role in rows}
        user.__dict__["_memberships"] = cached
    return cached


def _represents(user, organisation) -> bool:
    return _member(user) and memberships(user).get(organisation.id) == MemberRole.REPRESENTATIVE


def _belongs(user, organisation) -> bool:
    """A representative or a member (not a pending request) of ``organisation``."""
    return _member(user) and memberships(user).get(organisation.id) in (
        MemberRole.REPRESENTATIVE,
        MemberRole.MEMBER,
    )


def is_mediator(user) -> bool:
    """A moderator (or admin) an admin marked as mediator. One query per request, cached."""
    if not _member(user) or user.role not in (Role.MODERATOR, Role.ADMIN):
        return False
    cached = user.__dict__.get("_is_mediator")
    if cached is None:
        cached = db.session.get(Mediator, user.id) is not None
        user.__dict__["_is_mediator"] = cached
    return cached


def _active(organisation) -> bool:
    return organisation.merged_into_id is None


@rule(Action.ORGANISATION_CREATE)
def _organisation_create(user, obj=None) -> bool:
    return _writer(user)


@rule(Action.ORGANISATION_EDIT)
def _organisation_edit(user, organisation) -> bool:
    """Its representatives, and the global moderators (who fix what was reported)."""
    return _active(organisation) and (
        (_writer(user) and _represents(user, organisation)) or _global_moderator(user)
    )


@rule(Action.ORGANISATION_JOIN)
def _organisation_join(user, organisation) -> bool:
    """Ask to join: members who are not in it yet (nor already asked)."""
    return _active(organisation) and _writer(user) and organisation.id not in memberships(user)


@rule(Action.ORGANISATION_MEMBERS)
def _organisation_members(user, organisation) -> bool:
    """Accept or decline join requests, hand the role on, remove members."""
    return _active(organisation) and _member(user) and _represents(user, organisation)


@rule(Action.ORGANISATION_VERIFY)
def _organisation_verify(user, organisation) -> bool:
    return _active(organisation) and _global_moderator(user)


@rule(Action.ORGANISATION_MERGE)
def _organisation_merge(user, organisation) -> bool:
    return _active(organisation) and _global_moderator(user)


def _speaks_for_another(user, organisation) -> bool:
    """Belongs to an organisation, and not only to ``organisation``."""
    return any(
        role in (MemberRole.REPRESENTATIVE, MemberRole.MEMBER) and org_id != organisation.id
        for org_id, role in memberships(user).items()
    )


@rule(Action.ORGANISATION_CONTACT)
def _organisation_contact(user, organisation) -> bool:
    """Ask for a *mise en relation*: a member of another organisation."""
    return _active(organisation) and _writer(user) and _speaks_for_another(user, organisation)


@rule(Action.OFFER_CREATE)
def _offer_create(user, organisation) -> bool:
    return _active(organisation) and _writer(user) and _represents(user, organisation)


@rule(Action.OFFER_EDIT)
def _offer_edit(user, offer) -> bool:
    return offer.status == "open" and (
        (_writer(user) and _represents(user, offer.organisation)) or _global_moderator(user)
    )


@rule(Action.OFFER_CLOSE)
def _offer_close(user, offer) -> bool:
    return _offer_edit(user, offer)


@rule(Action.OFFER_FOLLOW)
def _offer_follow(user, offer) -> bool:
    """Follow new matches of an open offer or need of one's own organisation."""
    return offer.is_open and _member(user) and _represents(user, offer.organisation)


@rule(Action.OFFER_CONTACT)
def _offer_contact(user, offer) -> bool:
    return offer.is_open and _organisation_contact(user, offer.organisation)


def _party(user, request: ContactRequest) -> bool:
    """The requester and the representatives of either organisation."""
    return _member(user) and (
        request.requester_id == user.id
        or _represents(user, request.to_organisation)
        or _represents(user, request.from_organisation)
    )


@rule(Action.CONTACT_VIEW)
def _contact_view(user, request: ContactRequest) -> bool:
    """The parties; the mediator who took it; mediators while it waits in their queue."""
    if _party(user, request):
        return True
    if request.mediator_id is not None:
        return _member(user) and request.mediator_id == user.id and is_mediator(user)
    return request.mediation and request.closed_at is None and is_mediator(user)


@rule(Action.CONTACT_ANSWER)
def _contact_answer(user, request: ContactRequest) -> bool:
    """Accept or decline: the representatives of the organisation asked, within 30 days."""
    return (
        request.status == "pending"
        and utcnow() < request.expires_at
        and _writer(user)
        and _represents(user, request.to_organisation)
    )


@rule(Action.CONTACT_ASK_MEDIATION)
def _contact_ask_mediation(user, request: ContactRequest) -> bool:
    return (
        not request.mediation
        and request.closed_at is None
        and request.status in ("pending", "accepted")
        and _writer(user)
        and _party(user, request)
    )


@rule(Action.CONTACT_TAKE)
def _contact_take(user, request: ContactRequest) -> bool:
    return (
        request.mediation
        and request.mediator_id is None
        and request.closed_at is None
        and is_mediator(user)
        and not _party(user, request)
    )


@rule(Action.CONTACT_CLOSE)
def _contact_close(user, request: ContactRequest) -> bool:
    """Close with an outcome: the mediator who took it."""
    return (
        request.closed_at is None
        and request.mediator_id is not None
        and _member(user)
        and request.mediator_id == user.id
        and is_mediator(user)
    )


@rule(Action.MEDIATION_QUEUE)
def _mediation_queue(user, obj=None) -> bool:
    return is_mediator(user)


@rule(Action.MEDIATOR_SET)
def _mediator_set(user, target=None) -> bool:
    return _admin(user)


@rule(Action.CONTACT_REPORT)
def _contact_report(user, obj=None) -> bool:
    """The report of *mises en relation* (counts only)."""
    return _admin(user)
