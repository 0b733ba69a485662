"""Page versions: the anonymous page cache's counters, moved by every write.

Revision ID: 0012_page_versions
Revises: 0011_jobs
Create Date: 2026-12-03 08:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_page_versions"
down_revision = "0011_jobs"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "page_versions",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("ref_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "ref_id", name=op.f("pk_page_versions")),
    )
    # Pages written before this revision date from now: Last-Modified never goes back.
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(table, [{"scope": "site", "ref_id": 0, "version": 1, "changed_at": now}])


def downgrade():
    op.drop_table("page_versions")
