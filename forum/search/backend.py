"""The one place that speaks a database's full-text dialect.

A :class:`SearchBackend` turns a :class:`~forum.search.text.ParsedQuery` into the
index rows that match (``search_entries.id``, ``kind`` and ``object_id``), the most
recent ``limit`` of them, as :class:`Candidates`. Finding matches is
what a full-text index does fast whatever the corpus size; ranking every match is not (SQLite's ``bm25`` reads a
common word's whole posting list to weigh it, PostgreSQL's ``ts_rank`` every
matching document), so ranking happens afterwards, on the candidates only, in Python
(:func:`forum.search.text.score`): both databases order results alike.

Every user word arrives here already reduced to stems of letters and digits, and still
is quoted (FTS5) or bound as a parameter (PostgreSQL): never spliced as syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import CTE, Integer, String, text

from forum.extensions import db
from forum.search.text import ParsedQuery

#: On PostgreSQL, migration 0002_search adds ``search_entries.document``, generated as
#: ``setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')``
#: and GIN-indexed.
PG_DOCUMENT = "document"


@dataclass(frozen=True)
class Candidates:
    """What a search examines: ``cte``, the matching index rows (``id``, ``kind``,
    ``object_id``), for statements to join; and, when the backend has already read them,
    how many there are and of which kinds (None: not read yet)."""

    cte: CTE
    count: int | None = None
    kinds: frozenset[str] | None = None


class SearchBackend(Protocol):
    def candidates(self, query: ParsedQuery, limit: int) -> Candidates:
        """The rows matching ``query``, the ``limit`` most recent."""
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

    def candidates(self, query: ParsedQuery, limit: int) -> Candidates:
        expression = " AND ".join(_fts5_phrase(term) for term in query.required)
        for term in query.excluded:
            expression += " NOT " + _fts5_phrase(term)
        # FTS5 walks its posting lists in rowid order: the newest matches come first, cheaply.
        sql = text(
            "SELECT rowid AS id, kind, object_id FROM search_fts WHERE search_fts MATCH :expression "
            "ORDER BY rowid DESC LIMIT :limit"
        ).bindparams(expression=expression, limit=limit)
        return Candidates(_columns(sql))

    def rebuild(self) -> None:
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


#: The candidates PostgreSQL found, handed back to it as text (three lists, comma
#: separated: binding a thousand-element array costs more than the whole search's
#: ranking), so the statement's text is the same for every search.
_PG_FOUND = (
    "SELECT * FROM unnest(string_to_array(:found_ids, ',')::integer[], "
    "string_to_array(:found_kinds, ','), string_to_array(:found_objects, ',')::integer[]) "
    "AS search_found(id, kind, object_id)"
)


class PostgresBackend:
    """PostgreSQL: the stems as a stored ``simple`` tsvector, GIN-indexed."""

    def candidates(self, query: ParsedQuery, limit: int) -> Candidates:
        """The GIN index finds matches in any order, and the planner weighs a word by
        its frequency: it walks the primary key backwards for a common word (a few
        thousand rows read), and fetches every match of a rare one. Between the two (a
        word in one row out of fifty), both read tens of thousands of rows; so the recent
        rows are searched in windows of ids below the newest one, newest first, each a
        statement of its own, planned for its own range and for exactly the rows still
        wanted, and each run only when the ones before it found fewer than ``limit``: the
        same rows in the end, about as many read as found. A phrase keeps the single
        scan: the planner takes it for as common as its words together and would read
        each window whole.

        The rows are read here, once; the statements that follow get them back as lists.
        """
        params: dict[str, str] = {}
        parts: list[str] = []
        for prefix, terms in (("", query.required), ("!!", query.excluded)):
            for term in terms:
                name = f"term{len(params) + 1}"
                params[name] = " ".join(term)
                function = "phraseto_tsquery" if len(term) > 1 else "plainto_tsquery"
                parts.append(f"{prefix}{function}('simple'::regconfig, %({name})s)")
        match = f"{PG_DOCUMENT} @@ ({' && '.join(parts)})"
        connection = db.session.connection()
        if any(len(term) > 1 for term in query.required):
            ranges = [""]
        else:
            newest = connection.exec_driver_sql("SELECT max(id) FROM search_entries").scalar()
            windows = window_bounds(newest, limit) if newest is not None else []
            # Ids start at 1: past a window reaching below that, the others are empty.
            ends = next((n + 1 for n, (low, _) in enumerate(windows) if (low or 0) < 1), 0)
            ranges = [_id_range(low, high) for low, high in windows[:ends]]
        rows: list = []
        for where in ranges:
            # The limit is written out, not bound: the planner chooses its scan by it.
            sql = (
                f"SELECT id, kind, object_id FROM search_entries WHERE {match}{where} "  # noqa: S608 - fixed SQL, values bound
                f"ORDER BY id DESC LIMIT {int(limit) - len(rows)}"
            )
            rows += connection.exec_driver_sql(sql, params).all()
            if len(rows) >= limit:
                break
        found = text(_PG_FOUND).bindparams(
            found_ids=",".join(str(row[0]) for row in rows),
            found_kinds=",".join(row[1] for row in rows),
            found_objects=",".join(str(row[2]) for row in rows),
        )
        return Candidates(
            _columns(found),
            len(rows),
            frozenset(row[1] for row in rows),
        )

    def rebuild(self) -> None:
        """The GIN index follows the table by itself."""


#: The windows of :meth:`PostgresBackend.candidates`: the newest ``limit`` times this many
#: ids, then the next ones back to that many, and so on; then all older rows.
WINDOWS = (8, 64, 512)


def window_bounds(newest: int, limit: int) -> list[tuple[int | None, int | None]]:
    """The windows of :meth:`PostgresBackend.candidates`, newest first: each holds the ids
    above its first bound and up to its second (None: unbounded).

    They cover every id, each once: the first has no upper bound (a row added since
    ``newest`` was read falls in it), the last no lower one.
    """
    bounds = [int(newest) - int(limit) * size for size in WINDOWS]
    lows = [*bounds, None]
    return list(zip(lows, [None, *bounds], strict=True))


def _id_range(low: int | None, high: int | None) -> str:
    return (f" AND id > {low}" if low is not None else "") + (
        f" AND id <= {high}" if high is not None else ""
    )


def get_backend() -> SearchBackend:
    """The backend for the database the app is bound to."""
    if db.engine.dialect.name == "postgresql":
        return PostgresBackend()
    return SqliteBackend()
