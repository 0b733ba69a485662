"""The one place that speaks a database's full-text dialect.

A :class:`SearchBackend` turns a :class:`~forum.search.text.ParsedQuery` into a
subquery of the index rows that match (``search_entries.id``, ``kind`` and
``object_id``), the most recent first and at most ``limit`` of them. Finding matches is
what a full-text index does fast whatever the corpus size; ranking every match is not (SQLite's ``bm25`` reads a
common word's whole posting list to weigh it, PostgreSQL's ``ts_rank`` every
matching document), so ranking happens afterwards, on the candidates only, in Python
(:func:`forum.search.text.score`): both databases order results alike.

Every user word arrives here already reduced to stems of letters and digits, and still
is quoted (FTS5) or bound as a parameter (PostgreSQL): never spliced as syntax.
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app
from sqlalchemy import CTE, Integer, String, text

from forum.extensions import db
from forum.search.text import ParsedQuery

#: On PostgreSQL, migration 0002_search adds ``search_entries.document``, generated as
#: ``setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')``
#: and GIN-indexed.
PG_DOCUMENT = "document"


class SearchBackend(Protocol):
    def candidates(self, query: ParsedQuery, limit: int) -> CTE:
        """``id``, ``kind``, ``object_id`` of the rows matching ``query``, the ``limit``
        most recent."""
        ...

    def rebuild(self) -> None:
        """Bring native structures in line with the index table after a bulk change."""
        ...


def _columns(sql) -> CTE:
    return sql.columns(id=Integer, kind=String, object_id=Integer).cte("search_candidates")


def _fts5_phrase(stems: tuple[str, ...]) -> str:
    # Stems hold only letters and digits; quoting them anyway keeps FTS5 syntax out of reach.
    return '"' + " ".join(s.replace('"', '""') for s in stems) + '"'


class SqliteBackend:
    """SQLite FTS5: ``search_fts`` mirrors ``search_entries`` through triggers."""

    def candidates(self, query: ParsedQuery, limit: int) -> CTE:
        expression = " AND ".join(_fts5_phrase(term) for term in query.required)
        for term in query.excluded:
            expression += " NOT " + _fts5_phrase(term)
        # FTS5 walks its posting lists in rowid order: the newest matches come first, cheaply.
        sql = text(
            "SELECT rowid AS id, kind, object_id FROM search_fts WHERE search_fts MATCH :expression "
            "ORDER BY rowid DESC LIMIT :limit"
        ).bindparams(expression=expression, limit=limit)
        return _columns(sql)

    def rebuild(self) -> None:
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


class PostgresBackend:
    """PostgreSQL: the stems as a stored ``simple`` tsvector, GIN-indexed."""

    def candidates(self, query: ParsedQuery, limit: int) -> CTE:
        """The GIN index finds matches in any order, and the planner weighs a word by
        its frequency: it walks the primary key backwards for a common word (a few
        thousand rows read), and fetches every match of a rare one. Between the two (a
        word in one row out of fifty), both read tens of thousands of rows; so, once the
        newest row's id is known (:func:`note_newest`), the recent rows are searched in
        windows of ids, newest first, each planned for its own size and each read only
        when the ones before it found fewer than ``limit``: the same rows in the end,
        about as many read as found. A phrase keeps the single scan: the planner takes it for as
        common as its words together and would read each window whole."""
        params: dict[str, str] = {}
        parts: list[str] = []
        for prefix, terms in (("", query.required), ("!!", query.excluded)):
            for term in terms:
                name = f"term{len(params) + 1}"
                params[name] = " ".join(term)
                function = "phraseto_tsquery" if len(term) > 1 else "plainto_tsquery"
                parts.append(f"{prefix}{function}('simple'::regconfig, :{name})")
        match = f"{PG_DOCUMENT} @@ ({' && '.join(parts)})"
        newest = current_app.extensions.get(_NEWEST)
        if newest is None or any(len(term) > 1 for term in query.required):
            sql = (
                f"SELECT id, kind, object_id FROM search_entries WHERE {match} "  # noqa: S608 - fixed SQL, values bound
                f"ORDER BY id DESC LIMIT {int(limit)}"
            )
        else:
            sql = _windowed(match, int(newest), int(limit))
        return _columns(text(sql).bindparams(**params))

    def rebuild(self) -> None:
        """The GIN index follows the table by itself."""


#: Where the newest index row's id, as the last search saw it, is kept (app.extensions).
_NEWEST = "forum.search.newest_entry"
#: The windows of :meth:`PostgresBackend.candidates`: the newest ``limit`` times this many
#: ids, then the next ones back to that many, and so on; then all older rows.
WINDOWS = (8, 64, 512)
#: The newest id is rounded down to a multiple of this (the first window has no upper
#: bound, so it only grows): the statement's text, and so its place in SQLAlchemy's
#: cache of compiled statements, stays the same for a while.
WINDOW_ROUNDING = 1024


def note_newest(newest: int | None) -> None:
    """Remember the newest index row's id for the next search's windows (an estimate: a
    row added since then falls in the first window, which has no upper bound)."""
    if newest is not None:
        current_app.extensions[_NEWEST] = newest


def _windowed(match: str, newest: int, limit: int) -> str:
    """The ``limit`` most recent rows satisfying ``match``, window by window (see
    :meth:`PostgresBackend.candidates`). The windows cover every id, so the result never
    depends on ``newest``; a window is read only if the ones before found too few."""
    top = newest // WINDOW_ROUNDING * WINDOW_ROUNDING
    bounds = [top - limit * size for size in WINDOWS]
    windows = []
    for number in range(len(bounds) + 1):
        ranges = []
        if number < len(bounds):
            ranges.append(f"id > {bounds[number]}")
        if number:
            ranges.append(f"id <= {bounds[number - 1]}")
        found = " + ".join(f"(SELECT count(*) FROM search_window{n})" for n in range(number))  # noqa: S608 - fixed SQL, values bound
        gate = f"({found}) < {limit} AND " if number else ""
        windows.append(
            f"search_window{number} AS MATERIALIZED (SELECT id, kind, object_id "  # noqa: S608 - fixed SQL, values bound
            f"FROM search_entries WHERE {gate}{match} AND {' AND '.join(ranges)} "
            f"ORDER BY id DESC LIMIT {limit})"
        )
    union = " UNION ALL ".join(f"SELECT * FROM search_window{n}" for n in range(len(windows)))  # noqa: S608 - fixed SQL, values bound
    return (
        f"WITH {', '.join(windows)} "  # noqa: S608 - fixed SQL, values bound
        f"SELECT id, kind, object_id FROM ({union}) AS search_windows "
        f"ORDER BY id DESC LIMIT {limit}"
    )


def get_backend() -> SearchBackend:
    """The backend for the database the app is bound to."""
    if db.engine.dialect.name == "postgresql":
        return PostgresBackend()
    return SqliteBackend()
