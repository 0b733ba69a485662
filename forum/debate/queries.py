"""Reading the debate: what a thread page adds to its posts, and the debate map.

Who reacted to each post comes with the post itself (``posts.reaction_summary``,
:mod:`forum.debate.summary`), the reader's own reactions included. A thread page costs
at most one more statement for positions and reactions (:func:`page_view`): for the
few posts whose replies are not all on the page, the positions those replies took,
counted in SQL (the others are counted from the page's own posts). Its polls and
synthesis come in a second one (:func:`thread_extras`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import Select, and_, bindparam, func, or_, select

from forum import content
from forum.accounts.models import User
from forum.debate import synthesis
from forum.debate.models import (
    BADGE_LABELS,
    POSITION_LABELS,
    REACTION_LABELS,
    Poll,
    Position,
    ReactionKind,
    Synthesis,
)
from forum.debate.polls import InlinePoll, inline_polls
from forum.debate.summary import KIND_END, KIND_START, NAME_END, PARTS, names_by_kind
from forum.discussions.models import Post, Thread
from forum.discussions.tree import Node
from forum.extensions import db
from forum.templating import url_pattern

#: The order positions are listed in ("3 pour · 2 contre · 1 nuance").
POSITION_ORDER = tuple(Position)
REACTION_ORDER = tuple(ReactionKind)
POSITION_CODES = tuple(code.value for code in POSITION_ORDER)
REACTION_CODES = tuple(code.value for code in REACTION_ORDER)
#: Characters of a post shown on the debate map.
EXCERPT_LENGTH = 220


def _visible_to(moderates: bool, member: bool):
    """Posts whose position counts for a reader: not deleted, and hidden or pending only
    for those who may read them (moderators of the theme, their author: ``user_id``)."""
    clause = Post.deleted_at.is_(None)
    if moderates:
        return clause
    shown = Post.hidden_at.is_(None) & Post.pending_at.is_(None)
    if member:
        shown = or_(shown, Post.author_id == bindparam("user_id"))
    return and_(clause, shown)


class PageDebate:
    """The debate under each post of one page, and its markup.

    A page shows up to 500 posts: what is the same for all of them (labels, URL
    patterns, the CSRF token, the fixed parts of each piece of markup) is put together
    once here, escaped, and each post's pieces are joined with plain string formatting.
    For a reader who may react to nothing on the page (a visitor), what goes under every
    post is written here, before the template runs (:attr:`written`: one dictionary
    look-up per post in the template); for one who may, the template asks
    :meth:`block` for each post, whose buttons depend on the post.
    """

    def __init__(self, thread: Thread, reacts: bool) -> None:
        self.extras: ThreadExtras | None = None
        #: Whether the reader may react on this page (else :attr:`written` holds it all).
        self.reacts = reacts
        #: For a reader who may react to nothing here, post id -> what goes under the post
        #: (the same for every such reader), for the posts that have anything there:
        #: markup put together from escaped parts, which the template writes as it is,
        #: without a call per post.
        self.written: dict[int, str] = {}
        #: Post id -> its replies' position counts, as markup ("3 pour · 2 contre").
        self.counts: dict[int, str] = {}
        #: Post id -> who reacted to it: the counts as shown (to a reader who may not
        #: react to it), the list items of who gave each kind, and the counts as its
        #: summary holds them, each kind between separators (";d_accord=2;merci=1;").
        self.reactions: dict[int, tuple[str, str, str]] = {}
        #: Post ids -> the reaction codes the reader gave.
        self.mine: dict[int, set[str]] = {}
        #: Post id -> the badge of the position it took (replies that took one).
        self.badge_of: dict[int, Markup] = {}
        self._map = url_for("debate.thread_map", thread_id=thread.id)
        self._react = url_pattern("debate.react", "post_id")
        self._list = url_pattern("debate.reactions", "post_id")
        token = generate_csrf() if reacts else ""
        # Each position's link around its post id and count: prefix, id, middle, n, suffix.
        self._links = {
            code.value: (
                f'<a href="{self._map}?position={code.value}#map-post-',
                f" {escape(str(label))}</a>",
            )
            for code, label in POSITION_LABELS.items()
        }
        self._word = {
            code.value: str(escape(str(REACTION_LABELS[code]))) for code in REACTION_ORDER
        }
        # One form per post, with the CSRF token once and a button per kind: the button
        # pressed sends its kind. Each kind: its code, its count's start in a post's
        # counts (";merci="), its button pressed and not pressed, before its count.
        button = (
            '<button type="submit" name="reaction" value="{code}" class="reaction-button" '
            'aria-pressed="{pressed}">{word}'
        )
        self._buttons = [
            (
                code,
                KIND_END + code + KIND_START,
                button.format(code=code, pressed="true", word=word),
                button.format(code=code, pressed="false", word=word),
            )
            for code, word in self._word.items()
        ]
        #: The form's start, before the URL of the post's reactions.
        self._form = '<form method="post" class="reactions" action="'
        #: After that URL: the token, then the buttons.
        self._token = f'"><input type="hidden" name="csrf_token" value="{token}">'
        #: The buttons of a post nobody reacted to, the same for all.
        self._idle = "".join(plain + "</button>" for *_kind, plain in self._buttons) + "</form>"
        # Who reacted, in a details (the list items of who, the post id), after the
        # buttons of who may react ...
        who = escape(_("Qui a réagi"))
        end = f'</ul><a href="{self._list}">' + f"{escape(_('Toutes les réactions'))}</a>".replace(
            "%", "%%"
        )
        self._who = (
            '<details class="who-reacted"><summary>'
            + f"{who}</summary><ul>".replace("%", "%%")
            + "%s</li>"
            + end
            + "</details></form>"
        )
        #: ... or, for the others, opened by the counts ("d'accord · 2, merci · 1").
        self._counted = (
            '<details class="reactions who-reacted"><summary>%s</summary><ul>%s</li>'
            + end
            + "</details>"
        )
        #: The badge of each position, text and not colour alone ("Position : Pour").
        hidden = escape(_("Position :"))
        self.badges = {
            code.value: Markup(  # noqa: S704 - escaped parts
                f'<span class="badge position position-{code.value}">'
                f'<span class="visually-hidden">{hidden} </span>{escape(str(label))}</span>'
            )
            for code, label in BADGE_LABELS.items()
        }

    def add_counts(self, counts: dict[int, dict[str, int]]) -> None:
        """Writes the links of each post's position counts, in the order of POSITION_CODES;
        call it after :meth:`add_reactions` (for a reader who may not react, it puts them
        above the reactions in :attr:`written`)."""
        links, written = self._links, self.counts
        for post_id, by_code in counts.items():
            html = ""
            for code in POSITION_CODES:
                if code in by_code:
                    start, end = links[code]
                    html += f'{" · " if html else ""}{start}{post_id}">{by_code[code]}{end}'
            written[post_id] = f'<p class="position-counts">{html}</p>'
        if not self.reacts:
            done = self.written
            for post_id, html in written.items():
                below = done.get(post_id)
                done[post_id] = f"{html}\n{below}" if below else html

    def add_reactions(self, summaries: dict[int, str], reader: str | None) -> None:
        """Who reacted to the page's posts, from their summaries (forum.debate.summary):
        each post's counts ("d'accord · 2, merci · 1") and list items of who ("merci :
        alice, bruno"). For a reader who may not react, written out into
        :attr:`written`; for one who may (``reader``, their username), kept with each
        post's counts by kind (for the buttons) and the kinds they gave (``mine``).

        The summaries of the whole page are turned into markup at once: split into their
        counts and their names, each part joined into one text, made markup by a few
        replaces over it, then split again by post.
        """
        if not summaries:
            return
        parts = str(escape(PARTS.join(summaries.values()))).split(PARTS)  # escaped at once
        counts = "\n".join(parts[0::2]).replace(KIND_END, ", ")
        names = "\n".join(parts[1::2]).replace(NAME_END, ", ").replace(KIND_END, "</li>")
        for code, word in self._word.items():  # last: words may hold the separators
            counts = counts.replace(code + KIND_START, f"{word} · ")
            names = names.replace(code + KIND_START, f"<li>{word} : ")
        shown, items = counts.split("\n"), names.split("\n")
        if not self.reacts:
            written, counted = self.written, self._counted
            for post_id, post_shown, post_items in zip(summaries, shown, items, strict=True):
                written[post_id] = counted % (post_shown, post_items, post_id)
            return
        reactions, mine = self.reactions, self.mine
        for (post_id, summary), post_shown, post_items, given in zip(
            summaries.items(), shown, items, parts[0::2], strict=True
        ):
            reactions[post_id] = (post_shown, post_items, KIND_END + given + KIND_END)
            if reader is not None and reader in summary:
                who = names_by_kind(summary)
                mine[post_id] = {code for code, listed in who.items() if reader in listed}

    def block(self, post_id: int, may_react: bool) -> Markup:
        """Under a post, for a reader who may react on the page: its replies' positions,
        each a link to the map filtered, and its reactions (buttons if ``may_react``, else
        counts; who in a details). For others, :attr:`written` holds it."""
        counts = self.counts.get(post_id)
        reactions = self.reactions.get(post_id)
        if reactions is None:
            if not may_react:
                return Markup(counts) if counts else _NOTHING  # noqa: S704 - escaped parts
            # Nobody reacted yet: the three buttons, the same for every such post.
            html = self._form + self._react % post_id + self._token + self._idle
        else:
            shown, items, given = reactions
            if may_react:
                mine = self.mine.get(post_id, ())
                html = self._form + self._react % post_id + self._token
                for code, start, pressed, plain in self._buttons:
                    html += pressed if code in mine else plain
                    at = given.find(start)
                    if at >= 0:  # its count, up to the end of the kind
                        at += len(start)
                        html += " · " + given[at : given.index(KIND_END, at)]
                    html += "</button>"
                html += self._who % (items, post_id)
            else:
                html = self._counted % (shown, items, post_id)
        return Markup(f"{counts}\n{html}" if counts else html)  # noqa: S704 - escaped parts


_NOTHING = Markup("")


def page_view(
    thread: Thread, posts: list[Post], viewer, rights, *, branch: bool = False, extras: bool = True
):
    """Positions and reactions of the page's posts (one query, only for the positions of
    replies on another page), and the thread's polls and synthesis on the thread page
    (one more, unless ``extras`` says it has neither)."""
    result = PageDebate(thread, rights.reacts)
    if posts:
        loaded = _loaded(posts)
        counts, incomplete = _positions_on_page(loaded, rights, result)
        reactions = {
            post["id"]: post["reaction_summary"] for post in loaded if post["reaction_summary"]
        }
        result.add_reactions(reactions, viewer.username if rights.reacts else None)
        if incomplete:
            for post_id, code, n in _positions_elsewhere(incomplete, rights):
                counts.setdefault(post_id, {})[code] = n
        result.add_counts(counts)
    if not branch:
        result.extras = thread_extras(thread) if extras else ThreadExtras(polls=[], synthesis=None)
        if result.extras.polls:
            result.extras.inline = inline_polls(result.extras.polls, viewer)
        found = result.extras.synthesis
        if found is not None and found.is_published:
            result.extras.sections = synthesis.render_for(found, viewer)
            result.extras.titles = synthesis.section_titles()
    return result


def _loaded(posts: list) -> list[dict]:
    """Each post's columns as the page read them: the attributes of its row
    (:class:`forum.discussions.tree.PostRow`), read as a dictionary; cheaper than 500
    posts' attributes one by one."""
    return [post.__dict__ for post in posts]


def _positions_on_page(
    posts: list[dict], rights, result: PageDebate
) -> tuple[dict[int, dict[str, int]], list[int]]:
    """The positions the page's posts' replies took, counted from the page itself, and the
    posts some of whose replies are not on it (those are counted in SQL); on the way, each
    reply's badge into ``result.badge_of``.

    A post's ``child_count`` only grows (a split reply keeps its rank), so a post with as
    many replies on the page as its ``child_count`` has them all there.
    """
    present: dict[int, int] = {}
    counts: dict[int, dict[str, int]] = {}
    me, sees_all = rights.user_id, rights.moderates
    badges, badge_of = result.badges, result.badge_of
    for post in posts:
        parent_id = post["parent_id"]
        if parent_id is None:
            continue
        present[parent_id] = present.get(parent_id, 0) + 1
        code = post["position"]
        if not code:
            continue
        badge_of[post["id"]] = badges[code]
        if post["deleted_at"] is None and (
            sees_all
            or (post["hidden_at"] is None and post["pending_at"] is None)
            or post["author_id"] == me
        ):
            by_code = counts.get(parent_id)
            if by_code is None:
                counts[parent_id] = {code: 1}
            else:
                by_code[code] = by_code.get(code, 0) + 1
    incomplete = [post["id"] for post in posts if post["child_count"] > present.get(post["id"], 0)]
    for post_id in incomplete:
        counts.pop(post_id, None)
    return counts, incomplete


@functools.cache
def _elsewhere_query(moderates: bool, member: bool) -> Select:
    """The statement of :func:`_positions_elsewhere` for a kind of reader, built once."""
    return (
        select(Post.parent_id, Post.position, func.count())
        .where(
            Post.parent_id.in_(bindparam("ids", expanding=True)),
            Post.position.is_not(None),
            _visible_to(moderates, member),
        )
        .group_by(Post.parent_id, Post.position)
    )


def _positions_elsewhere(incomplete: list[int], rights) -> list:
    """The positions the replies of ``incomplete`` posts took, with their counts, for the
    posts some of whose replies are not on the page: (post id, code, count) rows."""
    # Plain rows through the session's connection: the ORM's row handling would cost as
    # much again as reading them.
    member = rights.user_id is not None
    return (
        db.session.connection()
        .execute(
            _elsewhere_query(rights.moderates, member),
            {"ids": incomplete, "user_id": rights.user_id},
        )
        .all()
    )


@dataclass
class ThreadExtras:
    polls: list[Poll]
    synthesis: Synthesis | None
    #: The published synthesis's sections for this reader, and their titles.
    sections: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)
    #: The polls as the thread page shows them (one more statement, when there are any).
    inline: list[InlinePoll] = field(default_factory=list)


def thread_extras(thread: Thread) -> ThreadExtras:
    """The thread's polls and its synthesis (draft or published), in one query."""
    rows = db.session.execute(
        select(Poll, Synthesis)
        .select_from(Thread)
        .outerjoin(Poll, Poll.thread_id == Thread.id)
        .outerjoin(Synthesis, Synthesis.thread_id == Thread.id)
        .where(Thread.id == thread.id)
        .order_by(Poll.id)
    ).all()
    polls = [poll for poll, _synthesis in rows if poll is not None]
    synthesis = rows[0][1] if rows else None
    return ThreadExtras(polls=polls, synthesis=synthesis)


def arguments_only(forest: list[Node]) -> list[Node]:
    """The forest without the replies that took no position ("arguments seulement").

    Such a reply gives way to its own replies, which take its place under its parent.
    """
    kept: list[Node] = []
    for node in forest:
        children = arguments_only(node.children)
        if node.post.is_opening or node.post.position:
            node.children = children
            kept.append(node)
        else:
            for child in children:
                child.orphan = True
            kept.extend(children)
    return kept


# -- the debate map --------------------------------------------------------------------------


@dataclass
class MapItem:
    post_id: int
    author: str
    position: str
    excerpt: str


@dataclass
class MapSection:
    """A post that drew positions, and its replies by position."""

    post_id: int
    author: str
    excerpt: str
    opening: bool
    columns: dict[str, list[MapItem]] = field(default_factory=lambda: defaultdict(list))

    @property
    def total(self) -> int:
        return sum(len(items) for items in self.columns.values())


def debate_map(thread: Thread, viewer, rights) -> list[MapSection]:
    """The opening post and every post whose replies took positions, in thread order.

    One query whatever the thread's size: the posts that count for ``viewer`` with
    their authors' names.
    """
    rows = db.session.execute(
        select(
            Post.id,
            Post.parent_id,
            Post.position,
            Post.body_html,
            Post.hidden_at,
            Post.pending_at,
            Post.deleted_at,
            Post.author_id,
            User.username,
        )
        .join(User, User.id == Post.author_id)
        .where(Post.thread_id == thread.id)
        .order_by(Post.path)
    ).all()
    readable = {}
    for row in rows:
        if row.deleted_at is not None:
            continue
        if (row.hidden_at or row.pending_at) and not (
            rights.moderates or row.author_id == rights.user_id
        ):
            continue
        readable[row.id] = row
    sections: dict[int, MapSection] = {}
    order: list[int] = []
    for row in rows:
        if row.parent_id is None and row.id in readable:
            sections[row.id] = _section(row, opening=True)
            order.append(row.id)
    for row in readable.values():
        if row.parent_id is None or not row.position or row.parent_id not in readable:
            continue
        section = sections.get(row.parent_id)
        if section is None:
            section = sections[row.parent_id] = _section(readable[row.parent_id], opening=False)
            order.append(row.parent_id)
        section.columns[row.position].append(
            MapItem(row.id, row.username, row.position, _excerpt(row.body_html))
        )
    rank = {row.id: n for n, row in enumerate(rows)}
    return [sections[post_id] for post_id in sorted(order, key=rank.__getitem__)]


def _excerpt(body_html: str) -> str:
    return content.plain_text(body_html, limit=EXCERPT_LENGTH)


def _section(row, *, opening: bool) -> MapSection:
    return MapSection(row.id, row.username, _excerpt(row.body_html), opening)
