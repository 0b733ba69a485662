"""How well an offer fits a need (and the reverse): a pure, deterministic score, explained.

:func:`score` compares two sides — the offer or need on the page (``subject``) and a
candidate of the other kind — described by :class:`Facts`, plain values with no
database behind them. Points add up:

=========================  ======  =====================================================
reason                     points  when
=========================  ======  =====================================================
même département               30  both organisations are in the same département
même région                    20  otherwise, both in the same région
même thème                     25  both name the same theme
même catégorie                 20  same category (formation, lieu, vacances…)
organisations               15  the kinds complement each other (:data:`COMPLEMENTS`:
complémentaires                    a CSE and a cooperative or a mutual, a commune and
                                   a SCIC or a régie de quartier…)
familles complémentaires        5  otherwise, the two organisations are of different families
offre / besoin national·e      10  the candidate reaches the whole country
publiée récemment              10  the candidate is at most 30 days old (5 up to 90 days)
=========================  ======  =====================================================

A candidate is suggested from :data:`SUGGEST_FROM` points; followers of a need or
offer are told of a new candidate from :data:`NOTIFY_FROM` points. Equal scores are
ordered by the candidate's date, newest first, then by id: the same data always give
the same list. Reasons come back as codes, in the order of the table; :func:`explain`
turns them into words ("même département · même thème · offre nationale").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

SUGGEST_FROM = 20
NOTIFY_FROM = 50

POINTS = {
    "departement": 30,
    "region": 20,
    "theme": 25,
    "category": 20,
    "complement": 15,
    "families": 5,
    "national": 10,
    "fresh": 10,
    "recent": 5,
}
FRESH, RECENT = timedelta(days=30), timedelta(days=90)

_WORKS = {"cse"}
_UNIONS = {"syndicat", "union_locale", "federation", "confederation"}
_AUTHORITIES = {"commune", "intercommunalite", "departement", "region"}


def _pairs(left: set[str], right: set[str]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for a in left for b in right if a != b}


#: Kinds of organisation whose offers and needs answer each other, in either direction.
COMPLEMENTS: frozenset[frozenset[str]] = frozenset(
    # Works councils: holidays, health, culture from cooperatives, mutuals, associations.
    _pairs(_WORKS, {"cooperative", "scop", "mutuelle_sante", "mutuelle_assurance", "association"})
    # Unions: training, expertise, health cover from the social economy.
    | _pairs(_UNIONS, {"cooperative", "scop", "mutuelle_sante", "association", "fondation"})
    # Local authorities: SCIC, régies de quartier, cooperatives, associations.
    | _pairs(_AUTHORITIES, {"scic", "regie_quartier", "scop", "cooperative", "association"})
    # Residents: the régie de quartier, the commune, the SCIC.
    | _pairs({"association_habitants"}, {"regie_quartier", "commune", "intercommunalite", "scic"})
    # Works councils and unions of the same place.
    | _pairs(_WORKS, _UNIONS)
    # Foundations finance associations and régies.
    | _pairs({"fondation"}, {"association", "regie_quartier", "association_habitants"})
)
assert all(len(pair) == 2 for pair in COMPLEMENTS)


@dataclass(frozen=True)
class Facts:
    """One side of a match: an offer or need and its organisation, as plain values."""

    kind: str  # "offer" | "need"
    category: str
    theme_id: int | None
    scope: str  # local | departemental | regional | national
    departement: str
    region: str
    organisation_kind: str
    family: str
    created_at: datetime


@dataclass(frozen=True)
class Match:
    score: int
    reasons: tuple[str, ...]


def score(subject: Facts, candidate: Facts, now: datetime) -> Match:
    """How well ``candidate`` answers ``subject`` (see the module's table)."""
    reasons: list[str] = []
    if subject.departement == candidate.departement:
        reasons.append("departement")
    elif subject.region == candidate.region:
        reasons.append("region")
    if subject.theme_id is not None and subject.theme_id == candidate.theme_id:
        reasons.append("theme")
    if subject.category == candidate.category:
        reasons.append("category")
    if frozenset((subject.organisation_kind, candidate.organisation_kind)) in COMPLEMENTS:
        reasons.append("complement")
    elif subject.family != candidate.family:
        reasons.append("families")
    if candidate.scope == "national":
        reasons.append("national")
    age = now - candidate.created_at
    if age <= FRESH:
        reasons.append("fresh")
    elif age <= RECENT:
        reasons.append("recent")
    return Match(sum(POINTS[r] for r in reasons), tuple(reasons))


LABELS = {
    "departement": _l("même département"),
    "region": _l("même région"),
    "theme": _l("même thème"),
    "category": _l("même catégorie"),
    "complement": _l("organisations complémentaires"),
    "families": _l("familles d'acteurs complémentaires"),
    "fresh": _l("publiée récemment"),
    "recent": _l("publiée ces trois derniers mois"),
}


def explain(reasons: tuple[str, ...], candidate_kind: str) -> str:
    """The reasons in words, joined by " · "."""
    words = []
    for reason in reasons:
        if reason == "national":
            words.append(
                str(_l("offre nationale") if candidate_kind == "offer" else _l("besoin national"))
            )
        else:
            words.append(str(LABELS[reason]))
    return " · ".join(words)


def rank(subject: Facts, candidates: list[tuple[int, Facts]], now: datetime, limit: int):
    """The best ``limit`` candidates ``(id, facts)`` from :data:`SUGGEST_FROM` points.

    Returns ``[(id, Match)]``, best first; ties by date (newest first), then id.
    """
    scored = [(cid, facts, score(subject, facts, now)) for cid, facts in candidates]
    kept = [item for item in scored if item[2].score >= SUGGEST_FROM]
    kept.sort(key=lambda item: (-item[2].score, -item[1].created_at.timestamp(), item[0]))
    return [(cid, match) for cid, _facts, match in kept[:limit]]
