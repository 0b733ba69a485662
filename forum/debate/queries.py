"""Reading the debate: what a thread page adds to its posts, and the debate map.

Who reacted to each post comes with the post itself (``posts.reaction_summary``,
:mod:`forum.debate.summary`), the reader's own reactions included. A thread page costs
at most one more statement for positions and reactions (:func:`page_view`): for the
few posts whose replies are not all on the page, the positions those replies took,
counted in SQL (the others are counted from the page's own posts). Its polls and
synthesis come in a second one (:func:`thread_extras`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import and_, func, or_, select

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
from forum.discussions.models import Post, Thread
from forum.discussions.tree import Node
from forum.extensions import db
from forum.templating import url_pattern

#: The order positions are listed in ("3 pour · 2 contre · 1 nuance").
POSITION_ORDER = tuple(Position)
REACTION_ORDER = tuple(ReactionKind)
POSITION_CODES = tuple(code.value for code in POSITION_ORDER)
REACTION_CODES = tuple(code.value for code in REACTION_ORDER)
TAB = "\t"
#: Characters of a post shown on the debate map.
EXCERPT_LENGTH = 220


def _visible_to(viewer, rights):
    """Posts whose position counts for ``viewer``: not deleted, and hidden or pending only
    for those who may read them (moderators of the theme, their author)."""
    clause = Post.deleted_at.is_(None)
    if rights.moderates:
        return clause
    shown = Post.hidden_at.is_(None) & Post.pending_at.is_(None)
    if rights.user_id is not None:
        shown = or_(shown, Post.author_id == rights.user_id)
    return and_(clause, shown)


class PageDebate:
    """The debate under each post of one page, and its markup.

    A page shows up to 500 posts: what is the same for all of them (labels, URL
    patterns, the CSRF token, the fixed parts of each piece of markup) is put together
    once here, escaped; :meth:`block` then joins a post's pieces with plain string
    formatting, and a post with neither positions under it nor reactions, for a reader
    who may not react, costs one dictionary look-up.
    """

    def __init__(self, thread: Thread, reacts: bool) -> None:
        self.extras: ThreadExtras | None = None
        #: Post id -> its replies' position counts, as markup ("3 pour · 2 contre").
        self.counts: dict[int, str] = {}
        #: Post id -> who reacted to it: the counts' markup (for a reader who may not
        #: react), the list items of who gave each kind, the count of each kind given.
        self.reactions: dict[int, tuple[str, str, dict[str, str]]] = {}
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
        # A reaction button's form, after its action URL, pressed or not, before its count.
        form = (
            '" class="inline"><input type="hidden" name="csrf_token" value="{token}">'
            '<button type="submit" name="reaction" value="{code}" class="reaction-button" '
            'aria-pressed="{pressed}">{word}'
        )
        self._buttons = [
            (
                code,
                form.format(token=token, code=code, pressed="true", word=word),
                form.format(token=token, code=code, pressed="false", word=word),
            )
            for code, word in self._word.items()
        ]
        #: The reactions of a post nobody reacted to: its URL in each button's form.
        self._idle = (
            '<div class="reactions">'
            + "".join(
                '<form method="post" action="%s' + plain.replace("%", "%%") + "</button></form>"
                for _code, _pressed, plain in self._buttons
            )
            + "</div>"
        )
        #: The start of a kind's count and of its list item, before the number or names.
        self._count = {
            code: f'<span class="reaction-count">{word} · ' for code, word in self._word.items()
        }
        self._item = {code: f"<li>{word} : " for code, word in self._word.items()}
        self._who = (
            f'<details class="who-reacted"><summary>{escape(_("Qui a réagi"))}</summary><ul>'
        )
        self._all = f"{escape(_('Toutes les réactions'))}</a></details>"
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
        """Writes the links of each post's position counts, in the order of POSITION_CODES."""
        links, written = self._links, self.counts
        for post_id, by_code in counts.items():
            html = ""
            for code in POSITION_CODES:
                if code in by_code:
                    start, end = links[code]
                    html += f'{" · " if html else ""}{start}{post_id}">{by_code[code]}{end}'
            written[post_id] = f'<p class="position-counts">{html}</p>'

    def add_reactions(self, summaries: dict[int, str], reader: str | None) -> None:
        """Who reacted to the page's posts, from their summaries (forum.debate.summary):
        each kind's count ("merci · 2", for a reader who may not react) and list item
        ("merci : alice, bruno"), the counts by kind (for the buttons) and, for a
        ``reader`` who may react (their escaped username: names are unique, and the
        summaries rewritten when one changes), the kinds they gave (``mine``)."""
        if not summaries:
            return
        count, item, mine = self._count, self._item, self.mine
        escaped = str(escape("\x00".join(summaries.values()))).split("\x00")  # escaped at once
        reactions = self.reactions
        # Plain loops: comprehensions cost more than the work, three per post.
        for post_id, summary in zip(summaries, escaped, strict=True):
            shown, who, given = "", "", {}
            for line in summary.split("\n"):
                code, n, names = line.split(TAB, 2)
                shown += count[code] + n + "</span>"
                who += item[code] + names + "</li>"
                given[code] = n
                if reader is not None and reader in names and reader in names.split(TAB):
                    mine.setdefault(post_id, set()).add(code)
            reactions[post_id] = (shown, who.replace(TAB, ", "), given)

    def block(self, post_id: int, may_react: bool) -> Markup:
        """Under a post: its replies' positions, each a link to the map filtered, and its
        reactions (buttons for who may react, counts for the others, who in a details)."""
        counts = self.counts.get(post_id)
        reactions = self.reactions.get(post_id)
        if reactions is None:
            if not may_react:
                return Markup(counts) if counts else _NOTHING  # noqa: S704 - escaped parts
            # Nobody reacted yet: the three buttons, the same for every such post.
            html = self._idle % ((self._react % post_id,) * len(self._buttons))
        else:
            shown, items, given = reactions
            if may_react:
                mine = self.mine.get(post_id, ())
                action = '<form method="post" action="' + self._react % post_id
                shown = ""
                for code, pressed, plain in self._buttons:
                    shown += action + (pressed if code in mine else plain)
                    if code in given:
                        shown += " · " + given[code]
                    shown += "</button></form>"
            html = (
                f'<div class="reactions">{shown}{self._who}{items}'
                f'</ul><a href="{self._list % post_id}">{self._all}</div>'
            )
        return Markup(f"{counts}\n{html}" if counts else html)  # noqa: S704 - escaped parts


_NOTHING = Markup("")


def page_view(thread: Thread, posts: list[Post], viewer, rights, *, branch: bool = False):
    """Positions and reactions of the page's posts (one query, only for the positions of
    replies on another page), and the thread's polls and synthesis on the thread page
    (one more)."""
    result = PageDebate(thread, rights.reacts)
    if posts:
        loaded = _loaded(posts)
        counts, incomplete = _positions_on_page(loaded, rights, result)
        reactions = {
            post["id"]: post["reaction_summary"] for post in loaded if post["reaction_summary"]
        }
        result.add_reactions(reactions, str(escape(viewer.username)) if rights.reacts else None)
        if incomplete:
            for post_id, code, n in _positions_elsewhere(incomplete, viewer, rights):
                counts.setdefault(post_id, {})[code] = n
        result.add_counts(counts)
    if not branch:
        result.extras = thread_extras(thread)
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


def _positions_elsewhere(incomplete: list[int], viewer, rights) -> list:
    """The positions the replies of ``incomplete`` posts took, with their counts, for the
    posts some of whose replies are not on the page: (post id, code, count) rows."""
    # Plain rows through the session's connection: the ORM's row handling would cost as
    # much again as reading them.
    return (
        db.session.connection()
        .execute(
            select(Post.parent_id, Post.position, func.count())
            .where(
                Post.parent_id.in_(incomplete),
                Post.position.is_not(None),
                _visible_to(viewer, rights),
            )
            .group_by(Post.parent_id, Post.position)
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
