"""The backends' candidates: the ``limit`` most recent matches, whatever way they are found.

On PostgreSQL, once a search has seen the newest index row, the next ones look in
windows of ids (``backend._windowed``); the rows found must be those of the single scan,
for common, rare and absent words, exclusions, a stale or a wild guess of the newest id.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from forum.accounts.models import AnonymousUser
from forum.extensions import db
from forum.search import backend, services
from forum.search.models import SearchEntry
from forum.search.text import ParsedQuery, parse_query
from tests.factories import make_reply, make_thread, make_user

ROWS = 3000


def words(n: int) -> str:
    """Row ``n``'s body: "commun" in half the rows, "moyen" in one out of 40, "rare" in
    one out of 700, "exclu" in one out of 3."""
    found = [f"mot{n % 7}"]
    found += ["commun"] if n % 2 == 0 else []
    found += ["moyen"] if n % 40 == 0 else []
    found += ["rare"] if n % 700 == 0 else []
    found += ["exclu"] if n % 3 == 0 else []
    return " ".join(found)


QUERIES = {
    "commun": ParsedQuery(required=[("commun",)]),
    "moyen": ParsedQuery(required=[("moyen",)]),
    "rare": ParsedQuery(required=[("rare",)]),
    "absent": ParsedQuery(required=[("absent",)]),
    "moyen commun": ParsedQuery(required=[("moyen",), ("commun",)]),
    "commun -exclu": ParsedQuery(required=[("commun",)], excluded=[("exclu",)]),
    "phrase": ParsedQuery(required=[("commun", "moyen")]),
}


def expected(query: ParsedQuery, limit: int) -> list[int]:
    def matches(n: int) -> bool:
        text = f" {words(n)} "
        required = all(f" {' '.join(t)} " in text for t in query.required)
        return required and not any(f" {' '.join(t)} " in text for t in query.excluded)

    return [n for n in range(ROWS, 0, -1) if matches(n)][:limit]


def found(query: ParsedQuery, limit: int) -> tuple[list[int], str]:
    candidates = backend.get_backend().candidates(query, limit)
    stmt = select(candidates.c.id).order_by(candidates.c.id.desc())
    sql = str(stmt.compile(db.engine))
    return list(db.session.execute(stmt).scalars()), sql


@pytest.mark.parametrize("guess", [None, ROWS, ROWS // 2, ROWS * 40], ids=str)
def test_windows_find_the_rows_of_the_single_scan(app, monkeypatch, guess):
    monkeypatch.setattr(backend, "WINDOW_ROUNDING", 1)
    with app.app_context():
        db.session.execute(
            insert(SearchEntry),
            [
                {"id": n, "kind": "post", "object_id": n, "title": "", "body": words(n)}
                for n in range(1, ROWS + 1)
            ],
        )
        backend.note_newest(guess)
        postgres = db.engine.dialect.name == "postgresql"
        for name, query in QUERIES.items():
            for limit in (1, 3, 10, 40):
                ids, sql = found(query, limit)
                assert ids == expected(query, limit), (name, limit)
                windowed = postgres and guess is not None and name != "phrase"
                assert ("search_window" in sql) is windowed, (name, sql)
        assert expected(QUERIES["rare"], 40) == [2800, 2100, 1400, 700]


def test_a_search_remembers_the_newest_entry_for_the_next_one(app):
    author = make_user(app, "alice")
    thread = make_thread(app, author, "urbain", "Mutuelles", "Une mutuelle de quartier.")
    newest = make_reply(app, author, thread, body="Encore une mutuelle.")
    with app.app_context():
        assert app.extensions.get(backend._NEWEST) is None
        query = parse_query("mutuelle")
        first = services.search(AnonymousUser(), query, services.Filters(), 1, 20)
        top = db.session.execute(select(SearchEntry.id).order_by(SearchEntry.id.desc())).scalar()
        assert app.extensions[backend._NEWEST] == top
        again = services.search(AnonymousUser(), query, services.Filters(), 1, 20)
    assert [r.item.id for r in again.items] == [r.item.id for r in first.items]
    assert newest.id in [r.item.id for r in again.items] and len(again.items) == 2
