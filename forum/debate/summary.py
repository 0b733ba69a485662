"""Who reacted to a post and how, kept on the post (``posts.reaction_summary``).

A thread page shows, under each of its hundreds of posts, how many reacted of each kind
and who. Reading that from the reactions table cost the page a statement returning a
row per reaction, and as much again in Python; the post carries it instead, written
whenever a reaction comes or goes (:func:`forum.debate.services.toggle_reaction`) and
whenever a reactor's name changes (account erasure), in the same transaction.

The format is plain text, one line per kind in the order of
:data:`forum.debate.models.ReactionKind`: the kind's code, how many gave it, then each
name, separated by tabs, names sorted case-insensitively (``merci 2 alice bruno``, tab-separated).
Names never hold a tab or a line break (forum.accounts.services checks them).
"""

from __future__ import annotations

from collections.abc import Iterable

#: Reaction codes in the order a post lists them.
KINDS = ("d_accord", "merci", "bien_vu")


def summary_rows(rows: Iterable[tuple[int, str, str]]) -> dict[int, str]:
    """(post id, kind, name) rows -> post id -> its summary."""
    named: dict[int, dict[str, list[str]]] = {}
    for post_id, kind, name in rows:
        named.setdefault(post_id, {}).setdefault(kind, []).append(name)
    return {post_id: summary_of(by_kind) for post_id, by_kind in named.items()}


def summary_of(by_kind: dict[str, list[str]]) -> str | None:
    """The summary of one post from its names by kind; None when there are none."""
    lines = [
        "\t".join((kind, str(len(by_kind[kind])), *sorted(by_kind[kind], key=str.lower)))
        for kind in KINDS
        if by_kind.get(kind)
    ]
    return "\n".join(lines) or None
