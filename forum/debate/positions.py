"""A reply's position (pour, contre, nuance, question) towards the post it answers.

The position is a column of the post (``posts.position``), written with the reply
or its edit by :mod:`forum.discussions.services`, which asks :func:`checked` here.
Moving or splitting a thread keeps the rows, hence the positions; a split branch's
first post becomes an opening post, and an opening post shows no position.
"""

from __future__ import annotations

from flask_babel import gettext as _

from forum.debate.models import Position
from forum.refusals import Refused

CODES = frozenset(position.value for position in Position)


def parse(value: str | None) -> str | None:
    """``value`` as stored: a position code, or None for "no position".

    :raise Refused: an unknown code.
    """
    value = (value or "").strip().lower()
    if not value:
        return None
    if value not in CODES:
        raise Refused(
            _("Position inconnue : choisissez pour, contre, nuance, question ou aucune position.")
        )
    return value


def checked(author_id: int, parent, value: str | None) -> str | None:
    """The position a post by ``author_id`` answering ``parent`` may take.

    :raise Refused: an unknown code, a position on the opening post (``parent`` None),
        or a position towards one's own post.
    """
    position = parse(value)
    if position is None:
        return None
    if parent is None:
        raise Refused(_("Le premier message d'un fil ne prend pas position : il ouvre le débat."))
    if parent.author_id == author_id:
        raise Refused(
            _(
                "On ne prend pas position sur son propre message : complétez-le plutôt, "
                "ou publiez sans position."
            )
        )
    return position
