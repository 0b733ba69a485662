"""The search index: one row per post, news item, seminar or session, its text normalised.

A row names what it indexes by ``kind`` ("post", "news", "seminar" or "session") and
``object_id``. ``title`` (a thread title on its opening post's row, a news, seminar or
session title) and ``body`` hold
the words as :func:`forum.search.text.index_words` makes them: unaccented,
lower-case, Snowball-French-stemmed. Each database searches this table with
its own full-text engine (see :mod:`forum.search.backend`): an FTS5 table kept
in step by triggers on SQLite; on PostgreSQL a generated tsvector column,
``document``, with a GIN index. Those native objects exist only in the
migration; :func:`include_object` keeps them out of autogenerate comparisons.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db

#: Database objects created by the search migration outside the models.
NATIVE_OBJECTS = frozenset(
    {
        "search_fts",
        "search_fts_data",
        "search_fts_idx",
        "search_fts_docsize",
        "search_fts_config",
        "search_fts_content",
        "ix_search_entries_document",
    }
)


#: Values of ``SearchEntry.kind``.
POST, NEWS, SEMINAR, SESSION = "post", "news", "seminar", "session"
#: The directory's rows: organisations, and offers and needs (searched from ``/directory/``).
ORGANISATION, OFFER = "org", "offer"
#: A thread's published synthesis (its ``object_id`` is the synthesis's id).
SYNTHESIS = "synthesis"


class SearchEntry(db.Model):
    __tablename__ = "search_entries"
    __table_args__ = (UniqueConstraint("kind", "object_id"),)

    #: Also the FTS5 rowid on SQLite.
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")


#: Columns the search migration adds outside the models: (table, column).
NATIVE_COLUMNS = frozenset({("search_entries", "document")})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic hook: ignore the search engine's native tables, indexes and columns."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "column":
        return (obj.table.name, name) not in NATIVE_COLUMNS
    return name not in NATIVE_OBJECTS
