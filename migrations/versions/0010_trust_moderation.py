"""Look-alike usernames and lock reasons.

``users.username_skeleton`` (indexed) holds what each name looks like (Unicode TR39
skeleton), filled here for existing accounts; ``threads.lock_reason`` keeps the
moderator's reason shown with a locked thread.

Revision ID: 0010_trust_moderation
Revises: 0009_login_failures
Create Date: 2026-12-03 08:00:00

"""

import sqlalchemy as sa
from alembic import op

from forum.accounts.lookalike import skeleton

# revision identifiers, used by Alembic.
revision = "0010_trust_moderation"
down_revision = "0009_login_failures"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("username_skeleton", sa.String(255), nullable=False, server_default="")
        )
        batch.create_index("ix_users_username_skeleton", ["username_skeleton"], unique=False)
    with op.batch_alter_table("threads") as batch:
        batch.add_column(
            sa.Column("lock_reason", sa.String(300), nullable=False, server_default="")
        )
    fill_skeletons(op.get_bind())


def fill_skeletons(bind) -> None:
    """Give every existing account the skeleton of its name, a batch at a time."""
    users = sa.table(
        "users", sa.column("id", sa.Integer), sa.column("username"), sa.column("username_skeleton")
    )
    last = 0
    while rows := bind.execute(
        sa.select(users.c.id, users.c.username)
        .where(users.c.id > last)
        .order_by(users.c.id)
        .limit(BATCH)
    ).all():
        bind.execute(
            users.update().where(users.c.id == sa.bindparam("uid")),
            [{"uid": row.id, "username_skeleton": skeleton(row.username)} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table("threads") as batch:
        batch.drop_column("lock_reason")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_username_skeleton")
        batch.drop_column("username_skeleton")
