"""Indexes for the feeds: newest threads, everywhere and per theme.

Revision ID: 0007_feed_indexes
Revises: 0006_notifications
Create Date: 2026-11-27 21:50:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0007_feed_indexes"
down_revision = "0006_notifications"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index("ix_threads_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_threads_theme_created", ["theme_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_theme_created")
        batch_op.drop_index("ix_threads_created_at")
