"""News (actualités): admins' articles, optionally tied to a theme.

Revision ID: 0004_news
Revises: 0003_search
Create Date: 2026-11-27 20:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_news"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "news",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("render_version", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_news_author_id_users")),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"], name=op.f("fk_news_theme_id_themes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news")),
    )
    op.create_index(op.f("ix_news_published_at"), "news", ["published_at"], unique=False)
    op.create_index(op.f("ix_news_theme_id"), "news", ["theme_id"], unique=False)


def downgrade():
    op.execute("DELETE FROM search_entries WHERE kind = 'news'")
    op.drop_index(op.f("ix_news_theme_id"), table_name="news")
    op.drop_index(op.f("ix_news_published_at"), table_name="news")
    op.drop_table("news")
