"""Ranking: :func:`forum.search.text.scorer` is the score to the last bit, and the page is in
its order on both databases.

The rows are hostile to counting: repeats that overlap, terms at either end, phrases,
accents and letters of several bytes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.accounts.models import AnonymousUser
from forum.extensions import db
from forum.search import services as search
from forum.search.models import SearchEntry
from forum.search.text import (
    BODY_WEIGHT,
    K1,
    TITLE_WEIGHT,
    TYPICAL_BODY_LENGTH,
    B,
    ParsedQuery,
    parse_query,
    score,
    scorer,
)
from tests.factories import make_reply, make_thread, make_user, opening_post

#: (title, body) as the index stores them: stems separated by spaces.
ROWS = [
    ("", ""),
    ("log", "log"),
    ("log log", "log log log log log"),
    ("", "log social log social log"),
    ("econom social", "econom social econom social econom"),
    ("", "social econom social econom social econom social"),
    ("", "log"),
    ("catalog", "logiqu catalog blog log"),
    ("", "economi social econom socialist econom social"),
    ("", "a a a a a a a"),
    ("", "a a a a a a a a"),
    ("", "œuvr ø ß ǆ log ø log"),
    ("", "straß log ß log ß ß"),
    ("", "𝔞 log 𝔞 log 𝔞"),
    ("𝔞 log", "𝔞 log"),
    ("日本 log", "日本 日本 log 日本 log log"),
    ("", "ελλην log ελλην ελλην"),
    ("", "x " * 400 + "log"),
    ("", "log " + "économ " * 300),
]

QUERIES = [
    ParsedQuery(required=[("log",)]),
    ParsedQuery(required=[("econom", "social")]),
    ParsedQuery(required=[("social", "econom", "social")]),
    ParsedQuery(required=[("log",), ("econom",), ("social",)]),
    ParsedQuery(required=[("a", "a")]),
    ParsedQuery(required=[("a", "a", "a")]),
    ParsedQuery(required=[("ø",), ("ß", "log")]),
    ParsedQuery(required=[("𝔞", "log")]),
    ParsedQuery(required=[("日本",), ("日本", "log")]),
    ParsedQuery(required=[("ελλην",), ("econom",)]),
    ParsedQuery(required=[("économ",)]),
]


def reference_score(query: ParsedQuery, title: str, body: str) -> float:
    """The score as it was first written, term by term: the ranking must not move."""
    title, body = f" {title} ", f" {body} "
    norm = K1 * (1 - B + B * len(body) / TYPICAL_BODY_LENGTH)
    total = 0.0
    for term in query.required:
        needle = " " + " ".join(term) + " "
        in_title, in_body = title.count(needle), body.count(needle)
        total += TITLE_WEIGHT * in_title / (in_title + K1)
        total += BODY_WEIGHT * in_body * (K1 + 1) / (in_body + norm)
    return total


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "+".join("_".join(t) for t in q.required))
def test_scorer_is_the_score_to_the_last_bit(query):
    rank = scorer(query)
    scores = set()
    for title, body in ROWS:
        expected = reference_score(query, title, body)
        assert rank(title, body) == expected == score(query, title, body), body
        scores.add(expected)
    # The rows do exercise the query: some match, some do not.
    assert 0.0 in scores and len(scores) >= 2


def test_repeats_next_to_each_other_count_once():
    """Occurrences are counted as ``str.count`` does, without overlap: "log log" holds
    " log " once (the space between them is used by the first)."""
    query = ParsedQuery(required=[("log",)])
    assert score(query, "", "log log") == score(query, "", "log xxx")
    assert score(query, "", "log x log") > score(query, "", "log x xxx")


def test_ranking_is_the_score_then_the_most_recent(app):
    """The page is in the order of the Python score, ties going to the most recent."""
    author = make_user(app, "alice")
    titled = make_thread(app, author, "urbain", "Logement", "Une régie de quartier.")
    thread = make_thread(app, author, "urbain", "Quartiers", "Les régies de quartier.")
    once = make_reply(app, author, thread, body="Un logement vacant.")
    twice = make_reply(app, author, thread, body="Un logement, puis un autre logement.")
    tie = make_reply(app, author, thread, body="Un logement vacant.")
    with app.app_context():
        query = parse_query("logement")
        page = search.search(AnonymousUser(), query, search.Filters(), 1, 20)
        ids = [result.item.id for result in page.items]
        rows = db.session.execute(
            select(SearchEntry.object_id, SearchEntry.title, SearchEntry.body)
        )
        by_python = [row for row in rows if score(query, row.title, row.body) > 0]
    by_python.sort(key=lambda row: row.object_id, reverse=True)
    by_python.sort(key=lambda row: score(query, row.title, row.body), reverse=True)
    assert ids == [row.object_id for row in by_python]
    assert set(ids) == {opening_post(app, titled).id, once.id, twice.id, tie.id}
    assert ids.index(twice.id) < ids.index(tie.id) < ids.index(once.id)
