"""The backends' candidates: the ``limit`` most recent matches, whatever way they are found.

On PostgreSQL, a single word's matches are looked for in windows of ids below the newest
one (``backend.window_bounds``), one statement per window; the rows found must be those
of the single scan, for common, rare and absent words, exclusions and phrases.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert, select

from forum.extensions import db
from forum.search import backend
from forum.search.models import SearchEntry
from forum.search.text import ParsedQuery

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


def test_windows_find_the_rows_of_the_single_scan(app):
    with app.app_context():
        db.session.execute(
            insert(SearchEntry),
            [
                {"id": n, "kind": "post", "object_id": n, "title": "", "body": words(n)}
                for n in range(1, ROWS + 1)
            ],
        )
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        postgres = db.engine.dialect.name == "postgresql"
        for name, query in QUERIES.items():
            for limit in (1, 3, 10, 40):
                statements.clear()
                candidates = backend.get_backend().candidates(query, limit)
                cte = candidates.cte
                rows = db.session.execute(select(cte.c.id, cte.c.kind, cte.c.object_id)).all()
                ids = sorted((row.id for row in rows), reverse=True)
                assert ids == expected(query, limit), (name, limit)
                assert all(row.kind == "post" and row.object_id == row.id for row in rows)
                if postgres:
                    assert candidates.count == len(ids)
                    assert candidates.kinds == ({"post"} if ids else set())
                    windowed = [s for s in statements if "id >" in s or "id <=" in s]
                    # A phrase is one scan; a word's windows stop once enough is found.
                    assert bool(windowed) is (name != "phrase"), (name, statements)
                    assert len(windowed) <= len(backend.WINDOWS) + 1
                else:
                    assert candidates.count is None and candidates.kinds is None
        assert expected(QUERIES["rare"], 40) == [2800, 2100, 1400, 700]


@pytest.mark.parametrize("newest, limit", [(3000, 1), (3000, 40), (10, 1000), (0, 5)])
def test_the_windows_cover_every_id_once(newest, limit):
    windows = backend.window_bounds(newest, limit)
    assert len(windows) == len(backend.WINDOWS) + 1
    assert windows[0][1] is None and windows[-1][0] is None
    lowest = newest - limit * backend.WINDOWS[-1]
    for id_ in range(lowest - 20, newest + 20):
        holding = [
            (low, high)
            for low, high in windows
            if (low is None or id_ > low) and (high is None or id_ <= high)
        ]
        assert len(holding) == 1, (id_, holding)
