"""Background work: the jobs table, and claims (token and lease) on outbox mails.

Revision ID: 0011_jobs
Revises: 0010_trust_moderation
Create Date: 2026-12-03 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_jobs"
down_revision = "0010_trust_moderation"
branch_labels = None
depends_on = None

DUE_JOBS = "done_at IS NULL"
DUE_MAILS = "sent_at IS NULL"


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    op.create_index(
        "ix_jobs_due",
        "jobs",
        ["run_at", "id"],
        unique=False,
        sqlite_where=sa.text(DUE_JOBS),
        postgresql_where=sa.text(DUE_JOBS),
    )
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_outbox_mails_due",
        "outbox_mails",
        ["id"],
        unique=False,
        sqlite_where=sa.text(DUE_MAILS),
        postgresql_where=sa.text(DUE_MAILS),
    )


def downgrade():
    op.drop_index("ix_outbox_mails_due", table_name="outbox_mails")
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")
