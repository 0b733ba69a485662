"""The one place that speaks a database's full-text dialect.

A :class:`SearchBackend` turns a :class:`~forum.search.text.ParsedQuery` into a
subquery of ``(kind, object_id, score)`` — lower score, better match — over the index
table, and rebuilds its native structures after a bulk load. Every user word
arrives here already reduced to stems of letters and digits, and still is
quoted (FTS5) or bound as a parameter (PostgreSQL): never spliced as syntax.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import CTE, Float, Integer, String, text

from forum.extensions import db
from forum.search.text import ParsedQuery

#: Weights of the title and body columns: a word in the thread title counts more.
TITLE_WEIGHT, BODY_WEIGHT = 4.0, 1.0

#: On PostgreSQL, migration 0002_search adds ``search_entries.document``, generated as
#: ``setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')``
#: and GIN-indexed.
PG_DOCUMENT = "document"


class SearchBackend(Protocol):
    def matches(self, query: ParsedQuery) -> CTE:
        """``(kind, object_id, score)`` of the index rows matching ``query``; lower score ranks first."""
        ...

    def rebuild(self) -> None:
        """Bring native structures in line with the index table after a bulk change."""
        ...


def _fts5_phrase(stems: tuple[str, ...]) -> str:
    # Stems hold only letters and digits; quoting them anyway keeps FTS5 syntax out of reach.
    return '"' + " ".join(s.replace('"', '""') for s in stems) + '"'


class SqliteBackend:
    """SQLite FTS5: ``search_fts`` mirrors ``search_entries`` through triggers."""

    def matches(self, query: ParsedQuery) -> CTE:
        expression = " AND ".join(_fts5_phrase(term) for term in query.required)
        for term in query.excluded:
            expression += " NOT " + _fts5_phrase(term)
        sql = text(
            "SELECT kind, object_id, bm25(search_fts, :title_weight, :body_weight) AS score "
            "FROM search_fts WHERE search_fts MATCH :expression"
        ).bindparams(expression=expression, title_weight=TITLE_WEIGHT, body_weight=BODY_WEIGHT)
        return sql.columns(kind=String, object_id=Integer, score=Float).cte("search_matches")

    def rebuild(self) -> None:
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


class PostgresBackend:
    """PostgreSQL: the stems as a stored ``simple`` tsvector, GIN-indexed, ranked by ``ts_rank``."""

    def matches(self, query: ParsedQuery) -> CTE:
        params: dict[str, str] = {}
        parts: list[str] = []
        for prefix, terms in (("", query.required), ("!!", query.excluded)):
            for term in terms:
                name = f"term{len(params)}"
                params[name] = " ".join(term)
                function = "phraseto_tsquery" if len(term) > 1 else "plainto_tsquery"
                parts.append(f"{prefix}{function}('simple'::regconfig, :{name})")
        tsquery = " && ".join(parts)
        sql = text(
            f"SELECT kind, object_id, -ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {PG_DOCUMENT}, q.query) AS score "  # noqa: S608 - fixed SQL, values bound
            f"FROM search_entries, (SELECT {tsquery} AS query) AS q "
            f"WHERE {PG_DOCUMENT} @@ q.query"
        ).bindparams(**params)
        return sql.columns(kind=String, object_id=Integer, score=Float).cte("search_matches")

    def rebuild(self) -> None:
        """The GIN index follows the table by itself."""


def get_backend() -> SearchBackend:
    """The backend for the database the app is bound to."""
    if db.engine.dialect.name == "postgresql":
        return PostgresBackend()
    return SqliteBackend()
