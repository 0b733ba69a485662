"""Full-text search index: search_entries, with FTS5 (SQLite) or a GIN index (PostgreSQL).

The index holds, for each post or news item (``kind``, ``object_id``), its text already normalised in Python (unaccented,
lower-case, Snowball-French-stemmed), so both databases match the very same
words. On SQLite an external-content FTS5 table, ``search_fts``, mirrors
``search_entries`` through triggers (``kind`` and ``object_id`` ride along,
unindexed, so a search never has to join back to the table, which would tempt
the query planner into scanning it); on PostgreSQL a stored generated column,
``document``, holds a ``simple`` tsvector of the same text, GIN-indexed. Run ``flask forum reindex`` after this
migration on a database that already holds posts.

Revision ID: 0003_search
Revises: 0002_seminars
Create Date: 2026-11-27 20:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_search"
down_revision = "0002_seminars"
branch_labels = None
depends_on = None

PG_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B'))"
)

SQLITE_STATEMENTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, body, kind UNINDEXED, object_id UNINDEXED, "
    "content='search_entries', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, title, body, kind, object_id) VALUES (new.id, new.title, new.body, new.kind, new.object_id); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body, kind, object_id) "
    "VALUES ('delete', old.id, old.title, old.body, old.kind, old.object_id); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body, kind, object_id) "
    "VALUES ('delete', old.id, old.title, old.body, old.kind, old.object_id); "
    "INSERT INTO search_fts(rowid, title, body, kind, object_id) VALUES (new.id, new.title, new.body, new.kind, new.object_id); END",
]


def upgrade():
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_search_entries_kind")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_STATEMENTS:
            op.execute(statement)
    elif dialect == "postgresql":
        # Stored, so ranking reads the vector instead of parsing the text of every match.
        op.execute(
            "ALTER TABLE search_entries ADD COLUMN document tsvector "
            f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED"
        )
        op.execute("CREATE INDEX ix_search_entries_document ON search_entries USING gin (document)")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_entries_ai", "search_entries_ad", "search_entries_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_entries")
