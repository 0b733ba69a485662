"""Failed logins counted per account, in the database: users.login_failures and the start
of their window (no address is stored).

Revision ID: 0009_login_failures
Revises: 0008_theme_visible_index
Create Date: 2026-12-03 08:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_login_failures"
down_revision = "0008_theme_visible_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("login_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("login_failures_since", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("login_failures_since")
        batch.drop_column("login_failures")
