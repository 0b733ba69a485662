"""Who reacted to a post: its summary as counts, then names (forum.debate.summary).

Revision ID: 0018_reaction_summary_parts
Revises: 0017_reaction_summary
Create Date: 2026-12-04 03:30:00

"""

import sqlalchemy as sa
from alembic import op

from forum.debate.summary import summary_rows

# revision identifiers, used by Alembic.
revision = "0018_reaction_summary_parts"
down_revision = "0017_reaction_summary"
branch_labels = None
depends_on = None

#: The order of kinds in the summaries of 0017.
KINDS = ("d_accord", "merci", "bien_vu")


def _rows(connection):
    return connection.execute(
        sa.text(
            "SELECT reactions.post_id, reactions.kind, users.username FROM reactions "
            "JOIN users ON users.id = reactions.user_id"
        )
    ).all()


def _write(connection, summaries: dict[int, str]) -> None:
    if summaries:
        connection.execute(
            sa.text("UPDATE posts SET reaction_summary = :summary WHERE id = :id"),
            [{"id": post_id, "summary": summary} for post_id, summary in summaries.items()],
        )


def upgrade():
    connection = op.get_bind()
    _write(connection, summary_rows(_rows(connection)))


def downgrade():
    """Back to 0017's format: one line per kind, "kind<TAB>count<TAB>name<TAB>name…"."""
    connection = op.get_bind()
    named: dict[int, dict[str, list[str]]] = {}
    for post_id, kind, name in _rows(connection):
        named.setdefault(post_id, {}).setdefault(kind, []).append(name)
    _write(
        connection,
        {
            post_id: "\n".join(
                "\t".join((kind, str(len(by_kind[kind])), *sorted(by_kind[kind], key=str.lower)))
                for kind in KINDS
                if by_kind.get(kind)
            )
            for post_id, by_kind in named.items()
        },
    )
