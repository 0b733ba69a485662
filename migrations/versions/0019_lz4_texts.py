"""PostgreSQL: the long texts pages read most, compressed with LZ4 rather than pglz.

A 500-post thread page reads about 500 KB of post HTML, a third of it compressed by
PostgreSQL (rows over 2 KB); pglz took the server about 0.4 ms per page to decompress,
LZ4 several times less. Values written from now on are compressed with LZ4; those
already stored stay as they are until they are rewritten (an edit, or
``UPDATE posts SET body_html = body_html || ''`` to do it at once). Nothing to do on
SQLite, nor on a PostgreSQL built without LZ4 (``default_toast_compression`` then has no
``lz4`` value).

Revision ID: 0019_lz4_texts
Revises: 0018_reaction_summary_parts
Create Date: 2026-12-04 23:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_lz4_texts"
down_revision = "0018_reaction_summary_parts"
branch_labels = None
depends_on = None

#: Read on every thread page, conversation page and search result.
COLUMNS = (
    ("posts", "body_html"),
    ("posts", "body_source"),
    ("conversation_messages", "body_html"),
    ("conversation_messages", "body_source"),
    ("search_entries", "body"),
)


def _lz4_available(connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.execute(
            sa.text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        ).scalar()
    )


def _set(compression: str) -> None:
    if not _lz4_available(op.get_bind()):
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {compression}")


def upgrade():
    _set("lz4")


def downgrade():
    _set("DEFAULT")
