"""Who reacted to a post, kept on the post for its thread page.

Revision ID: 0017_reaction_summary
Revises: 0016_debate
Create Date: 2026-12-03 15:00:00

"""

import sqlalchemy as sa
from alembic import op

from forum.debate.summary import summary_rows

# revision identifiers, used by Alembic.
revision = "0017_reaction_summary"
down_revision = "0016_debate"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaction_summary", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT reactions.post_id, reactions.kind, users.username FROM reactions "
            "JOIN users ON users.id = reactions.user_id"
        )
    ).all()
    summaries = summary_rows(rows)
    if summaries:
        connection.execute(
            sa.text("UPDATE posts SET reaction_summary = :summary WHERE id = :id"),
            [{"id": post_id, "summary": summary} for post_id, summary in summaries.items()],
        )


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): copying the posts table, as batch
    # mode would, is refused while other tables' foreign keys point at it.
    op.drop_column("posts", "reaction_summary")
