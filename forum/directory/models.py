"""Organisations and their members, offers and needs, contact requests, mediators.

Codes are stored, labels are looked up: families come from the accounts domain
(:data:`forum.accounts.models.FAMILY_LABELS`), territories from
:mod:`forum.directory.territories`, kinds, categories and scopes from the tables below.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import FAMILY_LABELS, Family, User
from forum.db import TimestampMixin, utcnow
from forum.directory import territories
from forum.discussions.models import Theme
from forum.extensions import db

#: The families an organisation belongs to: those of users, but "citoyen·ne".
ORGANISATION_FAMILIES = (Family.ESS, Family.SYNDICAL, Family.TERRITOIRES)

#: Kinds of organisation, by family (the first family is where the form lists it).
KIND_LABELS = {
    "cooperative": _l("Coopérative"),
    "scic": _l("SCIC (société coopérative d'intérêt collectif)"),
    "scop": _l("SCOP (société coopérative et participative)"),
    "mutuelle_sante": _l("Mutuelle santé"),
    "mutuelle_assurance": _l("Mutuelle d'assurance"),
    "association": _l("Association"),
    "fondation": _l("Fondation"),
    "cse": _l("CSE / comité d'entreprise"),
    "syndicat": _l("Syndicat"),
    "union_locale": _l("Union locale"),
    "federation": _l("Fédération"),
    "confederation": _l("Confédération"),
    "commune": _l("Commune"),
    "intercommunalite": _l("Intercommunalité"),
    "departement": _l("Département"),
    "region": _l("Région"),
    "regie_quartier": _l("Régie de quartier"),
    "association_habitants": _l("Association d'habitant·es"),
    "autre": _l("Autre"),
}

CATEGORY_LABELS = {
    "service": _l("Service"),
    "expertise": _l("Expertise, conseil"),
    "formation": _l("Formation"),
    "lieu": _l("Lieu, salle"),
    "financement": _l("Financement"),
    "benevolat": _l("Bénévolat"),
    "materiel": _l("Matériel"),
    "vacances": _l("Vacances, loisirs, culture"),
    "sante": _l("Santé, prévoyance"),
    "autre": _l("Autre"),
}

SCOPE_LABELS = {
    "local": _l("Locale (commune, quartier)"),
    "departemental": _l("Départementale"),
    "regional": _l("Régionale"),
    "national": _l("Nationale"),
}


class MemberRole(StrEnum):
    REPRESENTATIVE = "representative"
    MEMBER = "member"
    #: Asked to join, not yet accepted.
    PENDING = "pending"


MEMBER_ROLE_LABELS = {
    MemberRole.REPRESENTATIVE: _l("représentant·e"),
    MemberRole.MEMBER: _l("membre"),
    MemberRole.PENDING: _l("demande en attente"),
}


class OfferKind(StrEnum):
    OFFER = "offer"
    NEED = "need"


class OfferStatus(StrEnum):
    OPEN = "open"
    #: Closed: the offer found its taker, the need was met.
    FILLED = "pourvue"
    #: Closed by its organisation without a taker.
    WITHDRAWN = "retiree"


OFFER_STATUS_LABELS = {
    OfferStatus.OPEN: _l("ouverte"),
    OfferStatus.FILLED: _l("pourvue"),
    OfferStatus.WITHDRAWN: _l("retirée"),
}


class ContactStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    #: No answer within :data:`CONTACT_EXPIRY`.
    EXPIRED = "expired"


CONTACT_STATUS_LABELS = {
    ContactStatus.PENDING: _l("en attente de réponse"),
    ContactStatus.ACCEPTED: _l("acceptée"),
    ContactStatus.DECLINED: _l("déclinée"),
    ContactStatus.EXPIRED: _l("expirée sans réponse"),
}


class Outcome(StrEnum):
    ACCORD = "accord"
    PAS_DE_SUITE = "pas_de_suite"
    ORIENTATION = "orientation"


OUTCOME_LABELS = {
    Outcome.ACCORD: _l("accord"),
    Outcome.PAS_DE_SUITE: _l("pas de suite"),
    Outcome.ORIENTATION: _l("orientation vers un autre acteur"),
}

#: A request nobody answered expires after this delay.
CONTACT_EXPIRY = timedelta(days=30)
#: After a decline, the same organisation may not ask the same again for this long.
DECLINE_COOLDOWN = timedelta(days=90)


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"family IN {_in(ORGANISATION_FAMILIES)}", name="family"),
        CheckConstraint(f"kind IN {_in(KIND_LABELS)}", name="kind"),
        Index("ix_organisations_listing", "merged_into_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), nullable=False)
    #: Given at creation and never changed (links on flyers stay valid after a rename).
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    family: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    departement: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    commune: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    description_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    render_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    website: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: A duplicate merged by a moderator: its page redirects to this one.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    member_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", order_by="Membership.id", viewonly=True
    )

    @property
    def family_label(self) -> str:
        return str(FAMILY_LABELS[Family(self.family)])

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def region_name(self) -> str:
        return territories.region_name(self.region)

    @property
    def departement_name(self) -> str:
        return territories.departement_name(self.departement)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "organisation_members"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        CheckConstraint(f"role IN {_in(MemberRole)}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The join request's message (members who asked to join).
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()

    @property
    def role_label(self) -> str:
        return str(MEMBER_ROLE_LABELS[MemberRole(self.role)])


class Offer(TimestampMixin, db.Model):
    """An offer ("nous proposons…") or a need ("nous cherchons…") of an organisation."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(f"kind IN {_in(OfferKind)}", name="kind"),
        CheckConstraint(f"status IN {_in(OfferStatus)}", name="status"),
        CheckConstraint(f"scope IN {_in(SCOPE_LABELS)}", name="scope"),
        CheckConstraint(f"category IN {_in(CATEGORY_LABELS)}", name="category"),
        # Newest open first, the date checked from the index (listings, the match pool,
        # and counts that read the index alone).
        Index("ix_offers_listing", "status", "id", "expires_at"),
        # An organisation's open offers and needs (its page, the directory's counts).
        Index("ix_offers_organisation", "organisation_id", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    body_source: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    render_version: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20), nullable=False)
    expires_at: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=OfferStatus.OPEN.value)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation: Mapped[Organisation] = relationship()
    theme: Mapped[Theme | None] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def is_need(self) -> bool:
        return self.kind == OfferKind.NEED

    @property
    def is_expired(self) -> bool:
        return self.expires_at < utcnow().date()

    @property
    def is_open(self) -> bool:
        """Listed and matched: open and not past its date."""
        return self.status == OfferStatus.OPEN and not self.is_expired

    @property
    def kind_label(self) -> str:
        return str(_l("besoin") if self.is_need else _l("offre"))

    @property
    def category_label(self) -> str:
        return str(CATEGORY_LABELS[self.category])

    @property
    def scope_label(self) -> str:
        return str(SCOPE_LABELS[self.scope])

    @property
    def status_label(self) -> str:
        if self.status == OfferStatus.OPEN and self.is_expired:
            return str(_l("expirée"))
        return str(OFFER_STATUS_LABELS[OfferStatus(self.status)])

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.kind} {self.title!r}>"


class OfferFollow(TimestampMixin, db.Model):
    """A representative follows new offers matching one of their needs (or the reverse)."""

    __tablename__ = "offer_follows"
    __table_args__ = (UniqueConstraint("offer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Mediator(TimestampMixin, db.Model):
    """A moderator an admin marked as mediator: takes contact requests from ``/mediation/``."""

    __tablename__ = "mediators"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    appointed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContactRequest(TimestampMixin, db.Model):
    """A *mise en relation*: a member of one organisation asks to meet another one."""

    __tablename__ = "contact_requests"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(ContactStatus)}", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {_in(Outcome)}", name="outcome"),
        Index("ix_contact_requests_pair", "from_organisation_id", "to_organisation_id"),
        Index("ix_contact_requests_mediation", "mediation", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    to_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The offer or need it was asked from (None: from the organisation's page).
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(
        String(10), nullable=False, default=ContactStatus.PENDING.value
    )
    answer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Mediation asked (at the request, or by either side later).
    mediation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    mediation_asked_at: Mapped[datetime | None] = mapped_column(DateTime)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: The private conversation opened on acceptance (``conversations.id``).
    conversation_id: Mapped[int | None] = mapped_column(Integer)

    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])
    offer: Mapped[Offer | None] = relationship()
    mediator: Mapped[User | None] = relationship(foreign_keys=[mediator_id])

    @property
    def expires_at(self) -> datetime:
        return self.created_at + CONTACT_EXPIRY

    @property
    def status_label(self) -> str:
        return str(CONTACT_STATUS_LABELS[ContactStatus(self.status)])

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[Outcome(self.outcome)]) if self.outcome else ""

    @property
    def subject(self) -> str:
        """What the conversation is titled after: the offer or need, else the organisations."""
        if self.offer is not None:
            return self.offer.title
        return f"{self.from_organisation.name} ↔ {self.to_organisation.name}"
