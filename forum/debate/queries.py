"""Reading the debate: what a thread page adds to its posts, the debate map, poll results.

A thread page costs one more statement for positions and reactions together
(:func:`page_view`): the positions its posts' direct replies took, counted in SQL,
and the reactions to its posts with who gave them, in one ``UNION ALL``. Its polls
and synthesis come in a second one (:func:`thread_extras`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import String, and_, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import joinedload

from forum import content
from forum.accounts.models import User
from forum.debate import synthesis
from forum.debate.models import (
    BADGE_LABELS,
    POSITION_LABELS,
    REACTION_LABELS,
    Poll,
    PollVote,
    PollVoter,
    Position,
    Reaction,
    ReactionKind,
    Synthesis,
)
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


@dataclass
class PostDebate:
    """What the page shows under one post."""

    positions: list[tuple[str, int]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    mine: set[str] = field(default_factory=set)

    @property
    def reaction_total(self) -> int:
        return sum(len(names) for names in self.reactions.values())


class PageDebate:
    """The debate under each post of one page, and its markup.

    A page shows up to 500 posts: what is the same for all of them (labels, URL
    patterns, the CSRF token) is found once here, and :meth:`block` writes each post's
    counts and reactions with plain string formatting rather than template loops.
    """

    def __init__(self, thread: Thread, posts: dict[int, PostDebate], reacts: bool) -> None:
        self.posts = posts
        self.extras: ThreadExtras | None = None
        self._map = url_for("debate.thread_map", thread_id=thread.id)
        self._react = url_pattern("debate.react", "post_id")
        self._list = url_pattern("debate.reactions", "post_id")
        self._token = generate_csrf() if reacts else ""
        # Escaped once for the page: each post's markup is then plain formatting.
        self._positions = {
            code.value: escape(str(label)) for code, label in POSITION_LABELS.items()
        }
        self._reactions = [
            (code.value, escape(str(REACTION_LABELS[code]))) for code in REACTION_ORDER
        ]
        self._who, self._all = escape(_("Qui a réagi")), escape(_("Toutes les réactions"))
        #: The badge of each position, text and not colour alone ("Position : Pour").
        hidden = escape(_("Position :"))
        self.badges = {
            code.value: Markup(  # noqa: S704 - escaped parts
                f'<span class="badge position position-{code.value}">'
                f'<span class="visually-hidden">{hidden} </span>{escape(str(label))}</span>'
            )
            for code, label in BADGE_LABELS.items()
        }

    def of(self, post_id: int) -> PostDebate:
        return self.posts.get(post_id) or _EMPTY

    def block(self, post_id: int, may_react: bool) -> Markup:
        """Under a post: its replies' positions, each a link to the map filtered, and its
        reactions (buttons for who may react, counts for the others, who in a details)."""
        entry = self.posts.get(post_id)
        if entry is None and not may_react:
            return _NOTHING
        entry = entry or _EMPTY
        parts = []
        if entry.positions:
            links = " · ".join(
                f'<a href="{self._map}?position={code}#map-post-{post_id}">'
                f"{n} {self._positions[code]}</a>"
                for code, n in entry.positions
            )
            parts.append(f'<p class="position-counts">{links}</p>')
        if entry.reactions or may_react:
            items = []
            for code, word in self._reactions:
                names = entry.reactions.get(code, ())
                count = f" · {len(names)}" if names else ""
                if may_react:
                    pressed = "true" if code in entry.mine else "false"
                    items.append(
                        f'<form method="post" action="{self._react % post_id}" class="inline">'
                        f'<input type="hidden" name="csrf_token" value="{self._token}">'
                        f'<button type="submit" name="reaction" value="{code}" '
                        f'class="reaction-button" aria-pressed="{pressed}">'
                        f"{word}{count}</button></form>"
                    )
                elif names:
                    items.append(f'<span class="reaction-count">{word}{count}</span>')
            if entry.reactions:
                who = "".join(
                    f"<li>{word} : {escape(', '.join(entry.reactions[code]))}</li>"
                    for code, word in self._reactions
                    if code in entry.reactions
                )
                items.append(
                    f'<details class="who-reacted"><summary>{self._who}</summary>'
                    f'<ul>{who}</ul><a href="{self._list % post_id}">{self._all}</a>'
                    "</details>"
                )
            parts.append(f'<div class="reactions">{"".join(items)}</div>')
        return Markup("\n".join(parts))  # noqa: S704 - every text above is escaped


_NOTHING = Markup("")
_EMPTY = PostDebate()


def page_view(thread: Thread, posts: list[Post], viewer, rights, *, branch: bool = False):
    """Positions and reactions of the page's posts (one query), and the thread's polls and
    synthesis on the thread page (one more)."""
    ids = [post.id for post in posts]
    result = PageDebate(thread, {}, rights.reacts)
    if ids:
        positions = (
            select(
                literal("p").label("tag"),
                Post.parent_id.label("post_id"),
                Post.position.label("code"),
                func.count().label("n"),
                cast(null(), String).label("username"),
            )
            .where(
                Post.parent_id.in_(ids),
                Post.position.is_not(None),
                _visible_to(viewer, rights),
            )
            .group_by(Post.parent_id, Post.position)
        )
        reactions = (
            select(
                literal("r"),
                Reaction.post_id,
                Reaction.kind,
                Reaction.user_id,
                User.username,
            )
            .join(User, User.id == Reaction.user_id)
            .where(Reaction.post_id.in_(ids))
        )
        rows = db.session.execute(union_all(positions, reactions)).all()
        counted: dict[int, Counter] = defaultdict(Counter)
        named: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for tag, post_id, code, n, username in rows:
            entry = result.posts.setdefault(post_id, PostDebate())
            if tag == "p":
                counted[post_id][code] += n
            else:
                named[post_id][code].append(username)
                if n == rights.user_id:
                    entry.mine.add(code)
        for post_id, counts in counted.items():
            result.posts[post_id].positions = [
                (code, counts[code]) for code in POSITION_CODES if counts[code]
            ]
        for post_id, by_kind in named.items():
            result.posts[post_id].reactions = {
                code: sorted(by_kind[code], key=str.lower)
                for code in REACTION_CODES
                if code in by_kind
            }
    if not branch:
        result.extras = thread_extras(thread)
        found = result.extras.synthesis
        if found is not None and found.is_published:
            result.extras.sections = synthesis.render_for(found, viewer)
            result.extras.titles = synthesis.section_titles()
    return result


@dataclass
class ThreadExtras:
    polls: list[Poll]
    synthesis: Synthesis | None
    #: The published synthesis's sections for this reader, and their titles.
    sections: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)


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


# -- polls ------------------------------------------------------------------------------------


@dataclass
class PollResults:
    poll: Poll
    counts: dict[int, int]
    voters: int
    mine: set[int]

    def percent(self, option_id: int) -> int:
        """Share of the voters who chose the option, rounded (multiple choice: may sum > 100)."""
        if not self.voters:
            return 0
        return round(100 * self.counts.get(option_id, 0) / self.voters)

    @property
    def voted(self) -> bool:
        return bool(self.mine)


def poll_or_none(poll_id: int) -> Poll | None:
    """The poll with its thread and options (two queries)."""
    return (
        db.session.execute(
            select(Poll)
            .options(joinedload(Poll.thread), joinedload(Poll.options))
            .where(Poll.id == poll_id)
        )
        .unique()
        .scalar()
    )


def poll_results(poll: Poll, viewer) -> PollResults:
    """Votes per option and voters (one query), and the viewer's choices."""
    counts_query = (
        select(PollVote.option_id, func.count())
        .where(PollVote.poll_id == poll.id)
        .group_by(PollVote.option_id)
    )
    voters_query = select(literal(0), func.count()).where(PollVoter.poll_id == poll.id)
    mine_query = None
    queries = [counts_query, voters_query]
    if viewer.is_authenticated:
        mine_query = select(PollVote.option_id, literal(-1)).where(
            PollVote.poll_id == poll.id, PollVote.user_id == viewer.id
        )
        queries.append(mine_query)
    counts, voters, mine = {}, 0, set()
    for option_id, n in db.session.execute(union_all(*queries)).all():
        if n == -1:
            mine.add(option_id)
        elif option_id == 0:
            voters = n
        else:
            counts[option_id] = n
    return PollResults(poll=poll, counts=counts, voters=voters, mine=mine)


def option_ids(poll: Poll) -> set[int]:
    return {option.id for option in poll.options}
