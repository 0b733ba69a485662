"""The score counted in SQL is :func:`forum.search.text.score` to the last bit, on both databases.

The search reads the occurrences of each term and the body's length from the database
(``services.score_inputs``) instead of the texts; these rows are hostile to that count:
repeats that overlap, terms at either end, phrases, accents and letters of several bytes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from forum.accounts.models import AnonymousUser
from forum.extensions import db
from forum.search import services as search
from forum.search.models import SearchEntry
from forum.search.text import ParsedQuery, parse_query, score, score_counts
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


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "+".join("_".join(t) for t in q.required))
def test_sql_counts_give_exactly_the_python_score(app, query):
    with app.app_context():
        db.session.execute(
            insert(SearchEntry),
            [
                {"kind": "post", "object_id": n, "title": title, "body": body}
                for n, (title, body) in enumerate(ROWS, start=1)
            ],
        )
        rows = db.session.execute(
            select(SearchEntry.title, SearchEntry.body, *search.score_inputs(query)).order_by(
                SearchEntry.object_id
            )
        ).all()
        terms = len(query.required)
        for row in rows:
            assert search.score_row(row, 2, terms) == score(query, row.title, row.body), row.body
        # The rows above do exercise the counts: some match, some do not.
        assert len({score(query, title, body) for title, body in ROWS}) >= 2


def test_score_counts_is_score_from_numbers():
    query = ParsedQuery(required=[("log",), ("econom", "social")])
    title, body = "log", "econom social log econom social econom"
    assert score(query, title, body) == score_counts([(1, 1), (0, 2)], len(body) + 2)
    assert score(query, "", "") == 0.0


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
