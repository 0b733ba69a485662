"""The pure scoring of matches: a table of cases, then ranking and explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from forum.directory.matching import (
    COMPLEMENTS,
    NOTIFY_FROM,
    SUGGEST_FROM,
    Facts,
    explain,
    rank,
    score,
)

NOW = datetime(2026, 12, 3, 12, 0)

#: A CSE in Seine-Saint-Denis looking for holidays for the employees' families.
NEED = Facts(
    kind="need",
    category="vacances",
    theme_id=3,
    scope="departemental",
    departement="93",
    region="11",
    organisation_kind="cse",
    family="syndical",
    created_at=NOW - timedelta(days=2),
)
#: A cooperative of social tourism in Paris, old, regional, another theme and category.
BASE = Facts(
    kind="offer",
    category="formation",
    theme_id=1,
    scope="regional",
    departement="13",
    region="93",
    organisation_kind="autre",
    family="syndical",
    created_at=NOW - timedelta(days=200),
)

CASES = [
    # (name, changes to BASE, expected score, expected reasons)
    ("nothing in common", {}, 0, ()),
    ("same département", {"departement": "93", "region": "11"}, 30, ("departement",)),
    ("same région only", {"departement": "75", "region": "11"}, 20, ("region",)),
    ("same theme", {"theme_id": 3}, 25, ("theme",)),
    ("same category", {"category": "vacances"}, 20, ("category",)),
    ("complementary kinds", {"organisation_kind": "cooperative"}, 15, ("complement",)),
    (
        "complementary kinds win over families",
        {"organisation_kind": "mutuelle_sante", "family": "ess"},
        15,
        ("complement",),
    ),
    ("different families only", {"family": "ess"}, 5, ("families",)),
    ("national scope", {"scope": "national"}, 10, ("national",)),
    ("fresh", {"created_at": NOW - timedelta(days=30)}, 10, ("fresh",)),
    ("recent", {"created_at": NOW - timedelta(days=31)}, 5, ("recent",)),
    ("old", {"created_at": NOW - timedelta(days=91)}, 0, ()),
    (
        "the cooperative of social tourism next door",
        {
            "departement": "93",
            "region": "11",
            "theme_id": 3,
            "category": "vacances",
            "organisation_kind": "cooperative",
            "family": "ess",
            "scope": "national",
            "created_at": NOW,
        },
        30 + 25 + 20 + 15 + 10 + 10,
        ("departement", "theme", "category", "complement", "national", "fresh"),
    ),
]


@pytest.mark.parametrize("name,changes,points,reasons", CASES, ids=[c[0] for c in CASES])
def test_score_table(name, changes, points, reasons):
    match = score(NEED, replace(BASE, **changes), NOW)
    assert (match.score, match.reasons) == (points, reasons)


def test_same_departement_beats_same_region_beats_national_scope():
    departement = score(NEED, replace(BASE, departement="93", region="11"), NOW).score
    region = score(NEED, replace(BASE, departement="77", region="11"), NOW).score
    national = score(NEED, replace(BASE, scope="national"), NOW).score
    assert departement > region > national > 0


def test_complements_are_symmetric_pairs_from_the_issue():
    assert frozenset(("cse", "cooperative")) in COMPLEMENTS
    assert frozenset(("cse", "mutuelle_sante")) in COMPLEMENTS
    assert frozenset(("commune", "scic")) in COMPLEMENTS
    assert frozenset(("commune", "regie_quartier")) in COMPLEMENTS
    assert frozenset(("cse", "commune")) not in COMPLEMENTS
    swapped = replace(BASE, organisation_kind="cse")
    need = replace(NEED, organisation_kind="cooperative")
    assert score(need, swapped, NOW).reasons == ("complement",)


def test_rank_keeps_suggestions_best_first_ties_newest_then_id():
    strong = replace(BASE, departement="93", region="11", category="vacances")  # 50
    tie_old = replace(BASE, theme_id=3, created_at=NOW - timedelta(days=300))  # 25
    tie_new = replace(BASE, theme_id=3, created_at=NOW - timedelta(days=250))  # 25
    weak = replace(BASE, scope="national")  # 10: below the threshold
    ranked = rank(NEED, [(1, weak), (2, tie_old), (3, tie_new), (4, strong), (5, tie_new)], NOW, 10)
    assert [cid for cid, _m in ranked] == [4, 3, 5, 2]
    assert all(m.score >= SUGGEST_FROM for _cid, m in ranked)
    assert rank(NEED, [(4, strong), (3, tie_new)], NOW, 1) == ranked[:1]
    assert SUGGEST_FROM < NOTIFY_FROM


def test_explanations_in_words(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert explain(("departement", "theme", "national"), "offer") == (
            "même département · même thème · offre nationale"
        )
        assert explain(("region", "category", "complement", "national"), "need") == (
            "même région · même catégorie · organisations complémentaires · besoin national"
        )
        assert explain((), "offer") == ""
