"""A partial index for theme pages as readers who see no hidden thread get them.

Revision ID: 0008_theme_visible_index
Revises: 0007_feed_indexes
Create Date: 2026-11-28 00:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_theme_visible_index"
down_revision = "0007_feed_indexes"
branch_labels = None
depends_on = None

VISIBLE = "merged_into_id IS NULL AND hidden_at IS NULL"


def upgrade():
    op.create_index(
        "ix_threads_theme_visible",
        "threads",
        ["theme_id", "pinned", "last_post_at"],
        unique=False,
        sqlite_where=sa.text(VISIBLE),
        postgresql_where=sa.text(VISIBLE),
    )


def downgrade():
    op.drop_index("ix_threads_theme_visible", table_name="threads")
