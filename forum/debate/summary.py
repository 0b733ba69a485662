"""Who reacted to a post and how, kept on the post (``posts.reaction_summary``).

A thread page shows, under each of its hundreds of posts, how many reacted of each kind
and who. Reading that from the reactions table cost the page a statement returning a
row per reaction, and as much again in Python; the post carries it instead, written
whenever a reaction comes or goes (:func:`forum.debate.services.toggle_reaction`) and
whenever a reactor's name changes (account erasure), in the same transaction.

The format is plain text: the counts, ``|``, then the names, each part listing the kinds
given in the order of :data:`forum.debate.models.ReactionKind`, separated by ``;``, each
as ``kind=``: ``d_accord=2;merci=1|d_accord=alice,Zoe;merci=chloe``, names sorted
case-insensitively. Names hold none of ``=,;|`` (forum.accounts.services checks them:
letters, digits, ``_``, ``.`` and ``-``), so a page turns all its posts' summaries into
markup at once, with a few ``str.replace`` over their joined text
(:meth:`forum.debate.queries.PageDebate.add_reactions`).
"""

from __future__ import annotations

from collections.abc import Iterable

#: Reaction codes in the order a post lists them.
KINDS = ("d_accord", "merci", "bien_vu")
#: Between the counts and the names; between two kinds; after a kind; between two names.
PARTS, KIND_END, KIND_START, NAME_END = "|", ";", "=", ","


def summary_rows(rows: Iterable[tuple[int, str, str]]) -> dict[int, str]:
    """(post id, kind, name) rows -> post id -> its summary."""
    named: dict[int, dict[str, list[str]]] = {}
    for post_id, kind, name in rows:
        named.setdefault(post_id, {}).setdefault(kind, []).append(name)
    return {post_id: summary_of(by_kind) for post_id, by_kind in named.items()}


def summary_of(by_kind: dict[str, list[str]]) -> str | None:
    """The summary of one post from its names by kind; None when there are none."""
    kinds = [kind for kind in KINDS if by_kind.get(kind)]
    if not kinds:
        return None
    counts = KIND_END.join(f"{kind}{KIND_START}{len(by_kind[kind])}" for kind in kinds)
    names = KIND_END.join(
        kind + KIND_START + NAME_END.join(sorted(by_kind[kind], key=str.lower)) for kind in kinds
    )
    return counts + PARTS + names


def names_by_kind(summary: str) -> dict[str, list[str]]:
    """Who gave each kind, from a summary: {kind: [name, …]}."""
    names = summary.split(PARTS)[1]
    return {
        code: listed.split(NAME_END)
        for code, listed in (kind.split(KIND_START) for kind in names.split(KIND_END))
    }
