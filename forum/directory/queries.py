"""Reads of the directory shared by pages: listings with their filters, an organisation's
page, the candidates of a match. Each function is one query (or a fixed few)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from forum.db import utcnow
from forum.directory import matching, territories
from forum.directory.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    ORGANISATION_FAMILIES,
    OUTCOME_LABELS,
    ContactRequest,
    ContactStatus,
    MemberRole,
    Membership,
    Offer,
    OfferFollow,
    OfferKind,
    OfferStatus,
    Organisation,
    Outcome,
)
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.permissions import visible_threads
from forum.search import services as search
from forum.search.models import OFFER, ORGANISATION
from forum.search.text import parse_query

#: How many candidates of a match are read and scored (the newest that share something).
MATCH_POOL = 250
MATCH_LIMIT = 20


def today() -> date:
    return utcnow().date()


def open_offers(stmt: Select) -> Select:
    """Offers and needs still listed: open and not past their date."""
    return stmt.where(Offer.status == OfferStatus.OPEN.value, Offer.expires_at >= today())


@dataclass
class Filters:
    """The directory's filters, read from the query string (unknown values are ignored)."""

    family: str = ""
    kind: str = ""
    region: str = ""
    departement: str = ""
    theme: str = ""
    offres: bool = False
    besoins: bool = False
    q: str = ""
    #: On ``/offers/`` only: "offer" or "need".
    type: str = ""
    category: str = ""
    theme_id: int | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args, themes: list[Theme]) -> Filters:
        def pick(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        filters = cls(
            family=pick("family", ORGANISATION_FAMILIES),
            kind=pick("kind", KIND_LABELS),
            region=pick("region", territories.regions()),
            departement=pick("departement", territories.departements()),
            theme=pick("theme", {t.slug for t in themes}),
            offres=args.get("offres") == "1",
            besoins=args.get("besoins") == "1",
            q=(args.get("q") or "").replace("\x00", "").strip()[:200],
            type=pick("type", ("offer", "need")),
            category=pick("category", CATEGORY_LABELS),
        )
        filters.theme_id = next((t.id for t in themes if t.slug == filters.theme), None)
        return filters

    def args(self, **changes) -> dict:
        """The query string of these filters (``changes`` applied), empty values left out."""
        values = {
            "family": self.family,
            "kind": self.kind,
            "region": self.region,
            "departement": self.departement,
            "theme": self.theme,
            "offres": "1" if self.offres else "",
            "besoins": "1" if self.besoins else "",
            "q": self.q,
            "type": self.type,
            "category": self.category,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def _organisation_filters(stmt: Select, filters: Filters) -> Select:
    if filters.family:
        stmt = stmt.where(Organisation.family == filters.family)
    if filters.kind:
        stmt = stmt.where(Organisation.kind == filters.kind)
    if filters.region:
        stmt = stmt.where(Organisation.region == filters.region)
    if filters.departement:
        stmt = stmt.where(Organisation.departement == filters.departement)
    return stmt


def _has(kind: OfferKind, theme_id: int | None):
    stmt = open_offers(select(Offer.id)).where(
        Offer.organisation_id == Organisation.id, Offer.kind == kind.value
    )
    if theme_id is not None:
        stmt = stmt.where(Offer.theme_id == theme_id)
    return stmt.exists()


def _text_matches(q: str, kind: str):
    """Ids of ``kind`` rows the search index finds for ``q``; None when ``q`` says nothing."""
    if not q:
        return None
    query = parse_query(q)
    if not query.required:
        return None
    return search.matching_ids(query, kind)


def organisations(filters: Filters) -> Select:
    """Active organisations the filters keep, by name."""
    stmt = _organisation_filters(
        select(Organisation).where(Organisation.merged_into_id.is_(None)), filters
    )
    if filters.offres:
        stmt = stmt.where(_has(OfferKind.OFFER, filters.theme_id))
    if filters.besoins:
        stmt = stmt.where(_has(OfferKind.NEED, filters.theme_id))
    if filters.theme_id is not None and not (filters.offres or filters.besoins):
        themed = open_offers(select(Offer.id)).where(
            Offer.organisation_id == Organisation.id, Offer.theme_id == filters.theme_id
        )
        stmt = stmt.where(themed.exists())
    matches = _text_matches(filters.q, ORGANISATION)
    if matches is not None:
        stmt = stmt.where(Organisation.id.in_(matches.scalar_subquery()))
    return stmt.order_by(Organisation.name, Organisation.id)


def offers(filters: Filters) -> Select:
    """Open offers and needs the filters keep (filters on their organisation too), newest first."""
    stmt = open_offers(select(Offer)).options(
        joinedload(Offer.organisation), joinedload(Offer.theme)
    )
    if filters.family or filters.kind or filters.region or filters.departement:
        # Joined only when filtered on: the plain list (and its count) reads the index alone.
        stmt = _organisation_filters(
            stmt.join(Organisation, Organisation.id == Offer.organisation_id), filters
        )
    if filters.type:
        stmt = stmt.where(Offer.kind == filters.type)
    if filters.category:
        stmt = stmt.where(Offer.category == filters.category)
    if filters.theme_id is not None:
        stmt = stmt.where(Offer.theme_id == filters.theme_id)
    if filters.offres and not filters.besoins:
        stmt = stmt.where(Offer.kind == OfferKind.OFFER.value)
    if filters.besoins and not filters.offres:
        stmt = stmt.where(Offer.kind == OfferKind.NEED.value)
    matches = _text_matches(filters.q, OFFER)
    if matches is not None:
        stmt = stmt.where(Offer.id.in_(matches.scalar_subquery()))
    return stmt.order_by(Offer.id.desc())


def open_counts(organisation_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``{organisation id: (open offers, open needs)}``: one query, none for no ids."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        open_offers(
            select(
                Offer.organisation_id,
                func.sum(case((Offer.kind == OfferKind.OFFER.value, 1), else_=0)),
                func.sum(case((Offer.kind == OfferKind.NEED.value, 1), else_=0)),
            )
        )
        .where(Offer.organisation_id.in_(organisation_ids))
        .group_by(Offer.organisation_id)
    )
    return {org_id: (int(o or 0), int(n or 0)) for org_id, o, n in rows}


@dataclass
class ContactCounts:
    """An organisation's *mises en relation*: counts only, never their content."""

    asked: int = 0
    received: int = 0
    accepted: int = 0
    declined: int = 0
    mediated: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.asked + self.received

    @property
    def outcome_items(self) -> list[tuple[str, int]]:
        """``(label, count)`` of the mediations' outcomes, in the order of :class:`Outcome`."""
        return [
            (str(OUTCOME_LABELS[o]), self.outcomes[o.value])
            for o in Outcome
            if self.outcomes.get(o.value)
        ]


def contact_counts(organisation_id: int) -> ContactCounts:
    """One query: the requests this organisation asked and received, by status and outcome."""
    asked = case((ContactRequest.from_organisation_id == organisation_id, 1), else_=0)
    rows = db.session.execute(
        select(
            func.sum(asked),
            ContactRequest.status,
            ContactRequest.mediation,
            ContactRequest.outcome,
            func.count(),
        )
        .where(
            or_(
                ContactRequest.from_organisation_id == organisation_id,
                ContactRequest.to_organisation_id == organisation_id,
            )
        )
        .group_by(ContactRequest.status, ContactRequest.mediation, ContactRequest.outcome)
    )
    counts = ContactCounts()
    for asked_n, status, mediation, outcome, n in rows:
        asked_n = int(asked_n or 0)
        counts.asked += asked_n
        counts.received += n - asked_n
        if status == ContactStatus.ACCEPTED:
            counts.accepted += n
        elif status == ContactStatus.DECLINED:
            counts.declined += n
        if mediation:
            counts.mediated += n
        if outcome:
            counts.outcomes[outcome] = counts.outcomes.get(outcome, 0) + n
    return counts


def members_of(organisation_id: int) -> list[Membership]:
    return list(
        db.session.execute(
            select(Membership)
            .where(Membership.organisation_id == organisation_id)
            .options(joinedload(Membership.user))
            .order_by(Membership.id)
        ).scalars()
    )


def offers_of(organisation_id: int, *, include_closed: bool) -> list[Offer]:
    stmt = (
        select(Offer)
        .where(Offer.organisation_id == organisation_id)
        .options(joinedload(Offer.theme))
        .order_by(Offer.id.desc())
    )
    stmt = stmt if include_closed else open_offers(stmt)
    return list(db.session.execute(stmt.limit(200)).scalars())


def member_threads(organisation_id: int, viewer, limit: int = 10) -> list[Thread]:
    """Public threads opened by the organisation's members (not pending ones), newest first."""
    members = select(Membership.user_id).where(
        Membership.organisation_id == organisation_id,
        Membership.role != MemberRole.PENDING.value,
    )
    return list(
        db.session.execute(
            visible_threads(select(Thread), viewer)
            .where(Thread.author_id.in_(members.scalar_subquery()))
            .order_by(Thread.created_at.desc())
            .limit(limit)
        ).scalars()
    )


def organisations_of(user_id: int) -> list[Membership]:
    """The organisations a member belongs to (not pending requests), for their profile."""
    return list(
        db.session.execute(
            select(Membership)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(
                Membership.user_id == user_id,
                Membership.role != MemberRole.PENDING.value,
                Organisation.merged_into_id.is_(None),
            )
            .options(joinedload(Membership.organisation))
            .order_by(Organisation.name)
        ).scalars()
    )


# --- Matches ---------------------------------------------------------------------------


def facts_of(offer: Offer) -> matching.Facts:
    organisation = offer.organisation
    return matching.Facts(
        kind=offer.kind,
        category=offer.category,
        theme_id=offer.theme_id,
        scope=offer.scope,
        departement=organisation.departement,
        region=organisation.region,
        organisation_kind=organisation.kind,
        family=organisation.family,
        created_at=offer.created_at,
    )


def _pool(offer: Offer, kind: str) -> Select:
    """Open offers of ``kind`` of other organisations that share something with ``offer``.

    Something: a theme, the category, the région, or a national scope — without one of
    them a candidate cannot reach :data:`matching.SUGGEST_FROM` on territory alone… and
    the pool stays small whatever the directory holds.
    """
    organisation = offer.organisation
    shared = [
        Offer.category == offer.category,
        Organisation.region == organisation.region,
        Offer.scope == "national",
    ]
    if offer.theme_id is not None:
        shared.append(Offer.theme_id == offer.theme_id)
    return (
        open_offers(select(Offer))
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .where(
            Offer.kind == kind,
            Offer.organisation_id != offer.organisation_id,
            Organisation.merged_into_id.is_(None),
            or_(*shared),
        )
        .options(joinedload(Offer.organisation), joinedload(Offer.theme))
        .order_by(Offer.id.desc())
        .limit(MATCH_POOL)
    )


def matches_for(offer: Offer, limit: int = MATCH_LIMIT) -> list[tuple[Offer, matching.Match]]:
    """The open offers that fit a need (or the needs that fit an offer), best first. One query."""
    other = OfferKind.OFFER.value if offer.is_need else OfferKind.NEED.value
    pool = list(db.session.execute(_pool(offer, other)).unique().scalars())
    by_id = {candidate.id: candidate for candidate in pool}
    ranked = matching.rank(facts_of(offer), [(c.id, facts_of(c)) for c in pool], utcnow(), limit)
    return [(by_id[cid], match) for cid, match in ranked]


def followed_matches(offer: Offer) -> list[tuple[Offer, matching.Match]]:
    """The open, followed offers or needs of the other kind that ``offer`` answers.

    Scored from their side (``offer`` is their candidate); only those from
    :data:`matching.NOTIFY_FROM` points.
    """
    other = OfferKind.NEED.value if not offer.is_need else OfferKind.OFFER.value
    stmt = _pool(offer, other).where(
        select(OfferFollow.id).where(OfferFollow.offer_id == Offer.id).exists()
    )
    candidate = facts_of(offer)
    now = utcnow()
    found = []
    for followed in db.session.execute(stmt).unique().scalars():
        match = matching.score(facts_of(followed), candidate, now)
        if match.score >= matching.NOTIFY_FROM:
            found.append((followed, match))
    return found


def contact_between(from_id: int, to_id: int) -> Select:
    return select(ContactRequest).where(
        and_(
            ContactRequest.from_organisation_id == from_id,
            ContactRequest.to_organisation_id == to_id,
        )
    )
