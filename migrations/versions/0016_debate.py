"""Structured debate: positions of replies, reactions, polls, syntheses; a theme setting.

Revision ID: 0016_debate
Revises: 0015_directory
Create Date: 2026-12-03 08:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_debate"
down_revision = "0015_directory"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.String(length=10), nullable=True))
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "synthesis_by_authors", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )

    op.create_table(
        "reactions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('d_accord', 'merci', 'bien_vu')", name=op.f("ck_reactions_kind")
        ),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_reactions_post_id_posts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reactions_user_id_users")),
        sa.PrimaryKeyConstraint("post_id", "user_id", "kind", name=op.f("pk_reactions")),
    )
    op.create_index("ix_reactions_user_id", "reactions", ["user_id"])

    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("results", sa.String(length=12), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "results IN ('always', 'after_vote', 'after_close')", name=op.f("ck_polls_results")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_polls_thread_id_threads")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_polls_author_id_users")),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_polls_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index("ix_polls_thread_id", "polls", ["thread_id"])
    op.create_table(
        "poll_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_options_poll_id_polls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_options")),
    )
    op.create_index("ix_poll_options_poll_id", "poll_options", ["poll_id"])
    op.create_table(
        "poll_voters",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_voters_poll_id_polls")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_poll_voters_user_id_users")
        ),
        sa.PrimaryKeyConstraint("poll_id", "user_id", name=op.f("pk_poll_voters")),
    )
    op.create_table(
        "poll_votes",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_votes_poll_id_polls")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_poll_votes_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["option_id"], ["poll_options.id"], name=op.f("fk_poll_votes_option_id_poll_options")
        ),
        sa.PrimaryKeyConstraint("poll_id", "user_id", "option_id", name=op.f("pk_poll_votes")),
    )
    op.create_index("ix_poll_votes_option_id", "poll_votes", ["option_id"])

    op.create_table(
        "syntheses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("consensus", sa.Text(), nullable=False),
        sa.Column("disagreements", sa.Text(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("proposals", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("render_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("edit_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_syntheses_thread_id_threads")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_syntheses_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syntheses")),
        sa.UniqueConstraint("thread_id", name=op.f("uq_syntheses_thread_id")),
    )
    op.create_table(
        "synthesis_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("synthesis_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("consensus", sa.Text(), nullable=False),
        sa.Column("disagreements", sa.Text(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("proposals", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["synthesis_id"],
            ["syntheses.id"],
            name=op.f("fk_synthesis_revisions_synthesis_id_syntheses"),
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["users.id"], name=op.f("fk_synthesis_revisions_editor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_revisions")),
    )
    op.create_index("ix_synthesis_revisions_synthesis_id", "synthesis_revisions", ["synthesis_id"])
    op.create_table(
        "synthesis_approvals",
        sa.Column("synthesis_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["synthesis_id"],
            ["syntheses.id"],
            name=op.f("fk_synthesis_approvals_synthesis_id_syntheses"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_synthesis_approvals_user_id_users")
        ),
        sa.PrimaryKeyConstraint("synthesis_id", "user_id", name=op.f("pk_synthesis_approvals")),
    )


def downgrade():
    op.drop_table("synthesis_approvals")
    op.drop_index("ix_synthesis_revisions_synthesis_id", table_name="synthesis_revisions")
    op.drop_table("synthesis_revisions")
    op.drop_table("syntheses")
    op.drop_index("ix_poll_votes_option_id", table_name="poll_votes")
    op.drop_table("poll_votes")
    op.drop_table("poll_voters")
    op.drop_index("ix_poll_options_poll_id", table_name="poll_options")
    op.drop_table("poll_options")
    op.drop_index("ix_polls_thread_id", table_name="polls")
    op.drop_table("polls")
    op.drop_index("ix_reactions_user_id", table_name="reactions")
    op.drop_table("reactions")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_column("synthesis_by_authors")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("position")
