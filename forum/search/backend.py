"""The one place that speaks a database's full-text dialect.

A :class:`SearchBackend` turns a :class:`~forum.search.text.ParsedQuery` into a
subquery of the index rows that match (``search_entries.id``, ``kind`` and ``object_id``),
the most recent first and at most ``limit`` of them. Finding matches is what a full-text index does fast
whatever the corpus size; ranking every match is not (SQLite's ``bm25`` reads a
common word's whole posting list to weigh it, PostgreSQL's ``ts_rank`` every
matching document), so ranking happens afterwards, on the candidates only, with
:func:`forum.search.text.score` (its counts made in SQL, the same on both databases):
both databases order results alike.

Every user word arrives here already reduced to stems of letters and digits, and still
is quoted (FTS5) or bound as a parameter (PostgreSQL): never spliced as syntax.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import CTE, ColumnElement, Integer, String, func, literal, text

from forum.extensions import db
from forum.search.text import ParsedQuery

#: On PostgreSQL, migration 0002_search adds ``search_entries.document``, generated as
#: ``setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')``
#: and GIN-indexed.
PG_DOCUMENT = "document"


class SearchBackend(Protocol):
    def candidates(self, query: ParsedQuery, limit: int) -> CTE:
        """``id``, ``kind``, ``object_id`` of the rows matching ``query``: the ``limit`` most recent."""
        ...

    def occurrences(self, column: ColumnElement, needle: str) -> ColumnElement[int]:
        """How many times ``needle`` occurs in ``' ' || column || ' '``, as ``str.count``
        counts: from left to right, not overlapping (what ``replace`` removes)."""
        ...

    def rebuild(self) -> None:
        """Bring native structures in line with the index table after a bulk change."""
        ...


def _padded(column: ColumnElement) -> ColumnElement[str]:
    return literal(" ") + column + literal(" ")


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

    def occurrences(self, column: ColumnElement, needle: str) -> ColumnElement[int]:
        padded = _padded(column)
        removed = func.length(padded, type_=Integer) - func.length(
            func.replace(padded, needle, ""), type_=Integer
        )
        return removed // len(needle)

    def rebuild(self) -> None:
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


class PostgresBackend:
    """PostgreSQL: the stems as a stored ``simple`` tsvector, GIN-indexed."""

    def candidates(self, query: ParsedQuery, limit: int) -> CTE:
        params: dict[str, str | int] = {"limit": limit}
        parts: list[str] = []
        for prefix, terms in (("", query.required), ("!!", query.excluded)):
            for term in terms:
                name = f"term{len(params)}"
                params[name] = " ".join(term)
                function = "phraseto_tsquery" if len(term) > 1 else "plainto_tsquery"
                parts.append(f"{prefix}{function}('simple'::regconfig, :{name})")
        tsquery = " && ".join(parts)
        sql = text(
            f"SELECT id, kind, object_id FROM search_entries WHERE {PG_DOCUMENT} @@ ({tsquery}) "  # noqa: S608 - fixed SQL, values bound
            "ORDER BY id DESC LIMIT :limit"
        ).bindparams(**params)
        return _columns(sql)

    def occurrences(self, column: ColumnElement, needle: str) -> ColumnElement[int]:
        # In bytes: octet_length reads a text's size where length walks its characters,
        # and UTF-8 has no match of a needle's bytes that is not a match of its characters.
        removed = (
            func.octet_length(column)
            + 2
            - func.octet_length(func.replace(_padded(column), needle, ""))
        )
        return removed // len(needle.encode())

    def rebuild(self) -> None:
        """The GIN index follows the table by itself."""


def get_backend() -> SearchBackend:
    """The backend for the database the app is bound to."""
    if db.engine.dialect.name == "postgresql":
        return PostgresBackend()
    return SqliteBackend()
