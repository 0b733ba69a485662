"""Writes of the directory: organisations, memberships, offers and needs.

Each public function is one unit of work: it checks (``ensure`` for rights,
:class:`~forum.refusals.Refused` for content), changes the rows, indexes what search
should find, logs what the moderation did, and commits once. Contact requests and
mediation live in :mod:`forum.directory.contacts`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.directory import notify, territories
from forum.directory.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    ORGANISATION_FAMILIES,
    SCOPE_LABELS,
    ContactRequest,
    MemberRole,
    Membership,
    Offer,
    OfferFollow,
    OfferKind,
    OfferStatus,
    Organisation,
)
from forum.discussions.models import Theme
from forum.discussions.services import slugify
from forum.extensions import db
from forum.moderation import log
from forum.permissions import Action, ensure
from forum.refusals import Refused
from forum.search import services as search

NAME_LENGTH = (3, 150)
TITLE_LENGTH = (5, 150)
MAX_DESCRIPTION = 20_000
MAX_BODY = 20_000
#: An offer or need may stay open this long at most.
MAX_DURATION = timedelta(days=366)
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def _forget_memberships(user) -> None:
    """The rules cache the viewer's memberships: drop them after a change."""
    user.__dict__.pop("_memberships", None)


def _clean_line(value: str | None, field: str, low: int, high: int) -> str:
    value = " ".join((value or "").split())
    if "\x00" in value:
        raise Refused(_("Le champ « %(field)s » contient un caractère nul.", field=field))
    if not low <= len(value) <= high:
        raise Refused(
            _(
                "Le champ « %(field)s » doit faire entre %(low)d et %(high)d caractères.",
                field=field,
                low=low,
                high=high,
            )
        )
    return value


def _clean_text(value: str | None, field: str, high: int, *, required: bool) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise Refused(_("Le champ « %(field)s » contient un caractère nul.", field=field))
    if required and not value:
        raise Refused(_("Le champ « %(field)s » est obligatoire.", field=field))
    if len(value) > high:
        raise Refused(
            _(
                "Le champ « %(field)s » fait %(length)d caractères ; la limite est de %(limit)d.",
                field=field,
                length=len(value),
                limit=high,
            )
        )
    return value


def _check_territory(region: str, departement: str) -> None:
    if region not in territories.regions():
        raise Refused(_("Choisissez une région de la liste."))
    if departement not in territories.departements():
        raise Refused(_("Choisissez un département de la liste."))
    if territories.region_of(departement) != region:
        raise Refused(
            _(
                "Le département %(departement)s n'est pas dans la région %(region)s.",
                departement=territories.departement_name(departement),
                region=territories.region_name(region),
            )
        )


def _check_website(website: str | None) -> str:
    website = (website or "").strip()
    if website and (len(website) > 300 or not _URL_RE.match(website)):
        raise Refused(_("L'adresse du site doit commencer par http:// ou https://."))
    return website


def _unique_slug(name: str) -> str:
    base = slugify(name, max_length=80) or "organisation"
    taken = set(
        db.session.execute(
            select(Organisation.slug).where(
                (Organisation.slug == base) | Organisation.slug.like(f"{base}-%")
            )
        ).scalars()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _organisation_fields(
    name, family, kind, region, departement, commune, description, website
) -> dict:
    if family not in ORGANISATION_FAMILIES:
        raise Refused(_("Choisissez une famille d'acteurs de la liste."))
    if kind not in KIND_LABELS:
        raise Refused(_("Choisissez un type d'organisation de la liste."))
    _check_territory(region, departement)
    description = _clean_text(description, _("Présentation"), MAX_DESCRIPTION, required=False)
    commune = " ".join((commune or "").split())
    if len(commune) > 120 or "\x00" in commune:
        raise Refused(_("Le nom de la commune est trop long (120 caractères au plus)."))
    return {
        "name": _clean_line(name, _("Nom"), *NAME_LENGTH),
        "family": family,
        "kind": kind,
        "region": region,
        "departement": departement,
        "commune": commune,
        "description_source": description,
        "description_html": content.render_markdown(description) if description else "",
        "render_version": content.RENDER_VERSION,
        "website": _check_website(website),
    }


def create_organisation(
    user: User,
    name: str,
    family: str,
    kind: str,
    region: str,
    departement: str,
    commune: str = "",
    description: str = "",
    website: str = "",
) -> Organisation:
    """Create an organisation; ``user`` becomes its representative.

    :raise 403: ``user`` may not create organisations.
    :raise Refused: a field is missing or wrong.
    """
    ensure(user, Action.ORGANISATION_CREATE)
    fields = _organisation_fields(
        name, family, kind, region, departement, commune, description, website
    )
    organisation = Organisation(
        slug=_unique_slug(fields["name"]), created_by_id=user.id, member_count=1, **fields
    )
    db.session.add(organisation)
    db.session.flush()
    db.session.add(
        Membership(
            organisation_id=organisation.id, user_id=user.id, role=MemberRole.REPRESENTATIVE.value
        )
    )
    search.index_organisation(organisation)
    db.session.commit()
    _forget_memberships(user)
    return organisation


def update_organisation(user: User, organisation: Organisation, **values) -> Organisation:
    """Change the description, territory, links… (never the slug).

    :raise 403: not a representative (nor a global moderator).
    :raise Refused: a field is missing or wrong.
    """
    ensure(user, Action.ORGANISATION_EDIT, organisation)
    fields = _organisation_fields(
        values.get("name"),
        values.get("family"),
        values.get("kind"),
        values.get("region"),
        values.get("departement"),
        values.get("commune"),
        values.get("description"),
        values.get("website"),
    )
    for key, value in fields.items():
        setattr(organisation, key, value)
    search.index_organisation(organisation)
    db.session.commit()
    return organisation


def _membership(organisation: Organisation, user_id: int) -> Membership | None:
    return db.session.execute(
        select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user_id
        )
    ).scalar()


def request_join(user: User, organisation: Organisation, message: str = "") -> Membership:
    """Ask to join ``organisation``; its representatives accept or decline.

    :raise 403: already a member (or asked), or may not write.
    """
    ensure(user, Action.ORGANISATION_JOIN, organisation)
    message = _clean_text(message, _("Message"), 2000, required=False)
    membership = Membership(
        organisation_id=organisation.id,
        user_id=user.id,
        role=MemberRole.PENDING.value,
        message=message,
    )
    db.session.add(membership)
    db.session.commit()
    _forget_memberships(user)
    return membership


def answer_join(user: User, organisation: Organisation, member_id: int, accept: bool) -> None:
    """Accept (as a member) or decline a pending join request.

    :raise 403: ``user`` does not represent ``organisation``.
    :raise Refused: no such pending request.
    """
    ensure(user, Action.ORGANISATION_MEMBERS, organisation)
    membership = _membership(organisation, member_id)
    if membership is None or membership.role != MemberRole.PENDING:
        raise Refused(_("Cette demande n'est plus en attente."))
    if accept:
        membership.role = MemberRole.MEMBER.value
        organisation.member_count = Organisation.member_count + 1
    else:
        db.session.delete(membership)
    db.session.commit()


def set_member_role(user: User, organisation: Organisation, member_id: int, role: str) -> None:
    """Make a member a representative, or a representative a plain member again.

    An organisation always keeps at least one representative: the last one cannot step
    down (they hand the role on first).

    :raise 403: ``user`` does not represent ``organisation``.
    :raise Refused: no such member, or the last representative would go.
    """
    ensure(user, Action.ORGANISATION_MEMBERS, organisation)
    if role not in (MemberRole.REPRESENTATIVE, MemberRole.MEMBER):
        raise Refused(_("Rôle inconnu."))
    membership = _membership(organisation, member_id)
    if membership is None or membership.role == MemberRole.PENDING:
        raise Refused(_("Cette personne n'est pas membre de l'organisation."))
    if role == MemberRole.MEMBER and membership.role == MemberRole.REPRESENTATIVE:
        _keep_one_representative(organisation)
    membership.role = role
    db.session.commit()
    _forget_memberships(user)


def hand_on(user: User, organisation: Organisation, member_id: int) -> None:
    """``user`` hands the representative role to a member and stays a plain member.

    :raise 403: ``user`` does not represent ``organisation``.
    :raise Refused: the other person is not a member.
    """
    ensure(user, Action.ORGANISATION_MEMBERS, organisation)
    target = _membership(organisation, member_id)
    if target is None or target.role == MemberRole.PENDING or member_id == user.id:
        raise Refused(_("Choisissez un·e membre de l'organisation."))
    target.role = MemberRole.REPRESENTATIVE.value
    own = _membership(organisation, user.id)
    own.role = MemberRole.MEMBER.value
    db.session.commit()
    _forget_memberships(user)


def _keep_one_representative(organisation: Organisation) -> None:
    count = db.session.execute(
        select(func.count(Membership.id)).where(
            Membership.organisation_id == organisation.id,
            Membership.role == MemberRole.REPRESENTATIVE.value,
        )
    ).scalar_one()
    if count <= 1:
        raise Refused(
            _(
                "Une organisation garde toujours au moins un·e représentant·e : "
                "confiez d'abord ce rôle à un·e autre membre."
            )
        )


def leave(user: User, organisation: Organisation) -> None:
    """Leave an organisation (or withdraw a join request).

    :raise Refused: not a member, or the last representative.
    """
    membership = _membership(organisation, user.id)
    if membership is None:
        raise Refused(_("Vous n'êtes pas membre de cette organisation."))
    if membership.role == MemberRole.REPRESENTATIVE:
        _keep_one_representative(organisation)
    if membership.role != MemberRole.PENDING:
        organisation.member_count = Organisation.member_count - 1
    db.session.delete(membership)
    db.session.commit()
    _forget_memberships(user)


def verify(moderator: User, organisation: Organisation, verified: bool = True) -> None:
    """Give (or withdraw) the "vérifiée" badge; logged in the moderation log.

    :raise 403: not a global moderator.
    """
    ensure(moderator, Action.ORGANISATION_VERIFY, organisation)
    organisation.verified_at = utcnow() if verified else None
    organisation.verified_by_id = moderator.id if verified else None
    log.record(
        moderator,
        "organisation:verify" if verified else "organisation:unverify",
        organisation=organisation.slug,
        name=organisation.name,
    )
    db.session.commit()


def merge(moderator: User, duplicate: Organisation, target: Organisation, reason: str = "") -> None:
    """Merge ``duplicate`` into ``target``: members, offers and requests move over.

    The duplicate keeps its row (its links redirect to ``target``); a member of both
    keeps the higher role. Logged in the moderation log.

    :raise 403: not a global moderator.
    :raise Refused: the same organisation, or the target was itself merged.
    """
    ensure(moderator, Action.ORGANISATION_MERGE, duplicate)
    if duplicate.id == target.id or target.merged_into_id is not None:
        raise Refused(_("Choisissez une autre organisation, encore active, comme cible."))
    existing = {
        m.user_id: m
        for m in db.session.execute(
            select(Membership).where(Membership.organisation_id == target.id)
        ).scalars()
    }
    moved = 0
    for membership in db.session.execute(
        select(Membership).where(Membership.organisation_id == duplicate.id)
    ).scalars():
        kept = existing.get(membership.user_id)
        if kept is None:
            membership.organisation_id = target.id
            moved += membership.role != MemberRole.PENDING
        else:
            if membership.role == MemberRole.REPRESENTATIVE:
                kept.role = MemberRole.REPRESENTATIVE.value
            db.session.delete(membership)
    db.session.execute(
        update(Offer).where(Offer.organisation_id == duplicate.id).values(organisation_id=target.id)
    )
    for column in (ContactRequest.from_organisation_id, ContactRequest.to_organisation_id):
        db.session.execute(
            update(ContactRequest).where(column == duplicate.id).values({column: target.id})
        )
    target.member_count = Organisation.member_count + moved
    duplicate.member_count = 0
    duplicate.merged_into_id = target.id
    search.unindex_organisation(duplicate)
    log.record(
        moderator,
        "organisation:merge",
        reason=reason,
        organisation=duplicate.slug,
        into=target.slug,
    )
    db.session.commit()


# --- Offers and needs -------------------------------------------------------------------


def _offer_fields(kind, title, body, category, theme_slug, scope, expires_at) -> dict:
    if kind not in (OfferKind.OFFER, OfferKind.NEED):
        raise Refused(_("Choisissez « offre » ou « besoin »."))
    if category not in CATEGORY_LABELS:
        raise Refused(_("Choisissez une catégorie de la liste."))
    if scope not in SCOPE_LABELS:
        raise Refused(_("Choisissez une portée de la liste."))
    theme_id = None
    if theme_slug:
        theme_id = db.session.execute(
            select(Theme.id).where(Theme.slug == theme_slug, Theme.archived_at.is_(None))
        ).scalar()
        if theme_id is None:
            raise Refused(_("Choisissez un thème de la liste."))
    if not isinstance(expires_at, date):
        raise Refused(_("Indiquez une date d'échéance (jj/mm/aaaa)."))
    today = utcnow().date()
    if expires_at < today:
        raise Refused(_("La date d'échéance est déjà passée."))
    if expires_at > today + MAX_DURATION:
        raise Refused(_("La date d'échéance doit être dans l'année qui vient."))
    body = _clean_text(body, _("Description"), MAX_BODY, required=True)
    return {
        "kind": kind,
        "title": _clean_line(title, _("Titre"), *TITLE_LENGTH),
        "body_source": body,
        "body_html": content.render_markdown(body),
        "render_version": content.RENDER_VERSION,
        "category": category,
        "theme_id": theme_id,
        "scope": scope,
        "expires_at": expires_at,
    }


def create_offer(
    user: User,
    organisation: Organisation,
    kind: str,
    title: str,
    body: str,
    category: str,
    theme: str | None,
    scope: str,
    expires_at: date | None,
) -> Offer:
    """Publish an offer or a need of ``organisation``; followers of matching ones are told.

    :raise 403: ``user`` does not represent ``organisation``.
    :raise Refused: a field is missing or wrong.
    """
    ensure(user, Action.OFFER_CREATE, organisation)
    fields = _offer_fields(kind, title, body, category, theme, scope, expires_at)
    offer = Offer(organisation_id=organisation.id, author_id=user.id, **fields)
    db.session.add(offer)
    db.session.flush()
    search.index_offer(offer)
    # The author follows what matches their own need (they can stop).
    if offer.is_need:
        db.session.add(OfferFollow(offer_id=offer.id, user_id=user.id))
    notify.new_matches(offer)  # its job commits with the offer
    db.session.commit()
    return offer


def update_offer(user: User, offer: Offer, **values) -> Offer:
    """Edit an open offer or need (its kind stays).

    :raise 403: not a representative of its organisation (nor a global moderator).
    :raise Refused: a field is missing or wrong.
    """
    ensure(user, Action.OFFER_EDIT, offer)
    fields = _offer_fields(
        offer.kind,
        values.get("title"),
        values.get("body"),
        values.get("category"),
        values.get("theme"),
        values.get("scope"),
        values.get("expires_at"),
    )
    for key, value in fields.items():
        setattr(offer, key, value)
    offer.updated_at = utcnow()
    search.index_offer(offer)
    db.session.commit()
    return offer


def close_offer(user: User, offer: Offer, status: str) -> None:
    """Close an offer or need: ``pourvue`` (found its match) or ``retiree`` (withdrawn).

    :raise 403: not a representative of its organisation.
    :raise Refused: an unknown status.
    """
    ensure(user, Action.OFFER_CLOSE, offer)
    if status not in (OfferStatus.FILLED, OfferStatus.WITHDRAWN):
        raise Refused(_("Choisissez « pourvue » ou « retirée »."))
    offer.status = status
    offer.closed_at = utcnow()
    db.session.commit()


def follow_offer(user: User, offer: Offer, follow: bool = True) -> None:
    """Be told (or stop being told) of new matches of ``offer``.

    :raise 403: not a representative of its organisation, or the offer is closed.
    """
    if follow:
        ensure(user, Action.OFFER_FOLLOW, offer)
        exists = db.session.execute(
            select(OfferFollow.id).where(
                OfferFollow.offer_id == offer.id, OfferFollow.user_id == user.id
            )
        ).scalar()
        if exists is None:
            db.session.add(OfferFollow(offer_id=offer.id, user_id=user.id))
    else:
        db.session.execute(
            OfferFollow.__table__.delete().where(
                OfferFollow.offer_id == offer.id, OfferFollow.user_id == user.id
            )
        )
    db.session.commit()
