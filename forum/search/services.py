"""Keeping the index in step with posts, news, seminars and sessions; rebuilding it; searching.

The discussion, news and seminar services call :func:`index_post`, :func:`unindex_post`,
:func:`index_news`, :func:`index_seminar` and :func:`index_session` inside their own
transaction, so the index never disagrees with what was committed; the moderation
services call :func:`index_thread` when a thread's title, theme or opening post changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Select, delete, false, func, insert, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.debate.models import Synthesis, synthesis_text
from forum.directory.models import Offer, Organisation
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.news.models import News
from forum.pagination import Page, clamp
from forum.permissions import visible_news, visible_posts, visible_seminars, visible_threads
from forum.search.backend import Candidates, get_backend
from forum.search.models import (
    NEWS,
    OFFER,
    ORGANISATION,
    POST,
    SEMINAR,
    SESSION,
    SYNTHESIS,
    SearchEntry,
)
from forum.search.text import ParsedQuery, highlight, normalise, scorer
from forum.seminars.models import Seminar, Session

#: Enough for any post body (50,000 characters of Markdown).
PLAIN_TEXT_LIMIT = 1_000_000
PERIODS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "365d": timedelta(days=365)}
#: ``kind`` filter: threads (title and opening post), replies, news, seminars and sessions.
KINDS = ("fils", "messages", "actualites", "seminaires")


def _text(body_html: str) -> str:
    return normalise(content.plain_text(body_html, limit=PLAIN_TEXT_LIMIT))


#: The row of an object just inserted: built once, run on the table (the hot path of
#: every reply); ``inline``: no RETURNING of its id, which nobody reads.
_NEW_ENTRY = insert(SearchEntry.__table__).inline()


def _upsert(kind: str, object_id: int, title: str, body: str, *, new: bool = False) -> None:
    """``new``: the object was just inserted, so it has no row yet (no query to look)."""
    if new:
        values = {"kind": kind, "object_id": object_id, "title": title, "body": body}
        db.session.execute(_NEW_ENTRY, values)
        return
    entry = db.session.execute(
        select(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.object_id == object_id)
    ).scalar()
    if entry is None:
        db.session.add(SearchEntry(kind=kind, object_id=object_id, title=title, body=body))
    else:
        entry.title, entry.body = title, body


def index_post(post: Post, thread: Thread, *, new: bool = False) -> None:
    """Add or refresh the index row of ``post`` (flushed), in the current transaction.

    ``new``: ``post`` was inserted in this transaction (it has no index row yet).
    """
    title = normalise(thread.title) if post.parent_id is None else ""
    _upsert(POST, post.id, title, _text(post.body_html), new=new)


def index_thread(thread: Thread, *, former_openings: Iterable[int] = ()) -> None:
    """Refresh the index after ``thread``'s title, theme or opening post changed.

    The opening post's row carries the thread's title; ``former_openings``: posts that
    opened a thread and are now replies (a merge), whose rows lose that title. Called
    by every service that changes those (split, merge, move, title edits), in its own
    transaction.
    """
    former = list(former_openings)
    opening = (Post.thread_id == thread.id) & Post.parent_id.is_(None)
    rows = db.session.execute(
        select(Post.id, Post.parent_id, Post.body_html, Thread.title)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Post.deleted_at.is_(None), or_(opening, Post.id.in_(former)))
    ).all()
    for row in rows:
        title = normalise(row.title) if row.parent_id is None else ""
        _upsert(POST, row.id, title, _text(row.body_html))


def unindex_post(post: Post) -> None:
    """Take ``post`` out of the index (it was deleted), in the current transaction."""
    db.session.execute(
        delete(SearchEntry).where(SearchEntry.kind == POST, SearchEntry.object_id == post.id)
    )


def index_synthesis(synthesis: Synthesis, thread: Thread, text: str) -> None:
    """Add or refresh the row of a published synthesis: the thread's title, its ``text``."""
    _upsert(SYNTHESIS, synthesis.id, normalise(thread.title), normalise(text))


def index_news(news: News) -> None:
    """Add or refresh the index row of ``news`` (flushed), in the current transaction."""
    _upsert(NEWS, news.id, normalise(news.title), _text(news.body_html))


def _session_body(speakers: str, description_html: str, minutes_html: str) -> str:
    parts = [normalise(speakers), _text(description_html), _text(minutes_html)]
    return " ".join(part for part in parts if part)


def index_seminar(seminar: Seminar) -> None:
    """Add or refresh the index row of ``seminar`` (flushed), in the current transaction."""
    _upsert(SEMINAR, seminar.id, normalise(seminar.title), _text(seminar.description_html))


def index_session(session: Session) -> None:
    """Add or refresh the index row of ``session`` (title, speakers, description, minutes)."""
    _upsert(
        SESSION,
        session.id,
        normalise(session.title),
        _session_body(session.speakers, session.description_html, session.minutes_html),
    )


def _organisation_body(commune: str, description_html: str) -> str:
    return " ".join(part for part in (normalise(commune), _text(description_html)) if part)


def index_organisation(organisation) -> None:
    """Add or refresh the index row of an organisation of the directory."""
    _upsert(
        ORGANISATION,
        organisation.id,
        normalise(organisation.name),
        _organisation_body(organisation.commune, organisation.description_html),
    )


def unindex_organisation(organisation) -> None:
    """Take a merged organisation out of the index."""
    db.session.execute(
        delete(SearchEntry).where(
            SearchEntry.kind == ORGANISATION, SearchEntry.object_id == organisation.id
        )
    )


def index_offer(offer) -> None:
    """Add or refresh the index row of an offer or need of the directory."""
    _upsert(OFFER, offer.id, normalise(offer.title), _text(offer.body_html))


def matching_ids(query: ParsedQuery, kind: str, limit: int = 1000) -> Select:
    """A select of the ``object_id`` of index rows of ``kind`` matching ``query``.

    The ``limit`` most recent matches (of every kind) are examined, as :func:`search` does.
    """
    candidates = get_backend().candidates(query, limit).cte
    return select(candidates.c.object_id).where(candidates.c.kind == kind)


def reindex(batch_size: int = 1000) -> int:
    """Rebuild the whole index from posts, news, seminars and sessions; returns the row count."""
    db.session.execute(delete(SearchEntry))
    sources = [
        (
            POST,
            select(Post.id, Post.parent_id, Post.body_html, Thread.title)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.deleted_at.is_(None)),
            Post.id,
            lambda row: (
                normalise(row.title) if row.parent_id is None else "",
                _text(row.body_html),
            ),
        ),
        (
            NEWS,
            select(News.id, News.body_html, News.title),
            News.id,
            lambda row: (normalise(row.title), _text(row.body_html)),
        ),
        (
            SEMINAR,
            select(Seminar.id, Seminar.title, Seminar.description_html),
            Seminar.id,
            lambda row: (normalise(row.title), _text(row.description_html)),
        ),
        (
            SESSION,
            select(
                Session.id,
                Session.title,
                Session.speakers,
                Session.description_html,
                Session.minutes_html,
            ),
            Session.id,
            lambda row: (
                normalise(row.title),
                _session_body(row.speakers, row.description_html, row.minutes_html),
            ),
        ),
    ]
    sources += _directory_sources()
    sources.append(
        (
            SYNTHESIS,
            select(Synthesis.id, Synthesis.body_html, Thread.title)
            .join(Thread, Thread.id == Synthesis.thread_id)
            .where(Synthesis.published_at.is_not(None)),
            Synthesis.id,
            lambda row: (normalise(row.title), normalise(synthesis_text(row.body_html))),
        )
    )
    done = 0
    for kind, stmt, key, words in sources:
        last_id = 0
        while rows := db.session.execute(
            stmt.where(key > last_id).order_by(key).limit(batch_size)
        ).all():
            db.session.execute(
                insert(SearchEntry),
                [
                    {"kind": kind, "object_id": row.id, "title": title, "body": body}
                    for row in rows
                    for title, body in (words(row),)
                ],
            )
            done += len(rows)
            last_id = rows[-1].id
    get_backend().rebuild()
    db.session.commit()
    return done


def _directory_sources() -> list:
    """Organisations (merged ones left out), offers and needs, for :func:`reindex`."""
    return [
        (
            ORGANISATION,
            select(
                Organisation.id,
                Organisation.name,
                Organisation.commune,
                Organisation.description_html,
            ).where(Organisation.merged_into_id.is_(None)),
            Organisation.id,
            lambda row: (
                normalise(row.name),
                _organisation_body(row.commune, row.description_html),
            ),
        ),
        (
            OFFER,
            select(Offer.id, Offer.title, Offer.body_html),
            Offer.id,
            lambda row: (normalise(row.title), _text(row.body_html)),
        ),
    ]


@dataclass
class Filters:
    theme: Theme | None = None
    author: User | None = None
    since: str | None = None
    kind: str | None = None


class Byline(NamedTuple):
    """Who wrote a result, as the page names them."""

    username: str


@dataclass
class Result:
    kind: str
    #: The object found: an ORM object, or for a post a plain row (``id``, ``thread_id``,
    #: ``parent_id``, ``path``…), twenty of them read on every search.
    item: Any
    url_endpoint: str
    url_args: dict
    title: Markup
    snippet: Markup
    theme: Theme | None
    #: None: an author or organiser whose account is gone.
    author: User | Byline | None
    date: datetime


def _post_matches(matches, viewer, filters: Filters):
    stmt = (
        select(
            literal(POST).label("kind"),
            Post.id.label("object_id"),
            matches.c.id.label("entry_id"),
            Post.created_at.label("date"),
        )
        .join(Post, (matches.c.kind == POST) & (Post.id == matches.c.object_id))
        .join(Thread, Thread.id == Post.thread_id)
    )
    stmt = visible_threads(visible_posts(stmt, viewer), viewer)
    if filters.theme is not None:
        stmt = stmt.where(Thread.theme_id == filters.theme.id)
    if filters.author is not None:
        stmt = stmt.where(Post.author_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(Post.created_at >= utcnow() - PERIODS[filters.since])
    if filters.kind == "fils":
        stmt = stmt.where(Post.parent_id.is_(None))
    elif filters.kind == "messages":
        stmt = stmt.where(Post.parent_id.is_not(None))
    return stmt


def _news_matches(matches, viewer, filters: Filters):
    stmt = select(
        literal(NEWS).label("kind"),
        News.id.label("object_id"),
        matches.c.id.label("entry_id"),
        News.published_at.label("date"),
    ).join(News, (matches.c.kind == NEWS) & (News.id == matches.c.object_id))
    stmt = visible_news(stmt, viewer)
    if filters.theme is not None:
        stmt = stmt.where(News.theme_id == filters.theme.id)
    if filters.author is not None:
        stmt = stmt.where(News.author_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(News.published_at >= utcnow() - PERIODS[filters.since])
    return stmt


def _seminar_matches(matches, viewer, filters: Filters):
    """Seminars: no theme, so a theme filter leaves them out; "author" is the organiser."""
    stmt = select(
        literal(SEMINAR).label("kind"),
        Seminar.id.label("object_id"),
        matches.c.id.label("entry_id"),
        Seminar.starts_at.label("date"),
    ).join(Seminar, (matches.c.kind == SEMINAR) & (Seminar.id == matches.c.object_id))
    stmt = visible_seminars(stmt, viewer)
    if filters.theme is not None:
        stmt = stmt.where(false())
    if filters.author is not None:
        stmt = stmt.where(Seminar.created_by_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(Seminar.starts_at >= utcnow() - PERIODS[filters.since])
    return stmt


def _session_matches(matches, viewer, filters: Filters):
    """Sessions, visible with their seminar; "author" is the seminar's organiser."""
    stmt = (
        select(
            literal(SESSION).label("kind"),
            Session.id.label("object_id"),
            matches.c.id.label("entry_id"),
            Session.starts_at.label("date"),
        )
        .join(Session, (matches.c.kind == SESSION) & (Session.id == matches.c.object_id))
        .join(Seminar, Seminar.id == Session.seminar_id)
    )
    stmt = visible_seminars(stmt, viewer)
    if filters.theme is not None:
        stmt = stmt.where(Session.theme_id == filters.theme.id)
    if filters.author is not None:
        stmt = stmt.where(Seminar.created_by_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(Session.starts_at >= utcnow() - PERIODS[filters.since])
    return stmt


def _synthesis_matches(matches, viewer, filters: Filters):
    """Published syntheses, visible with their thread; "author" is who wrote the synthesis."""
    stmt = (
        select(
            literal(SYNTHESIS).label("kind"),
            Synthesis.id.label("object_id"),
            matches.c.id.label("entry_id"),
            Synthesis.published_at.label("date"),
        )
        .join(Synthesis, (matches.c.kind == SYNTHESIS) & (Synthesis.id == matches.c.object_id))
        .join(Thread, Thread.id == Synthesis.thread_id)
        .where(Synthesis.published_at.is_not(None))
    )
    stmt = visible_threads(stmt, viewer)
    if filters.theme is not None:
        stmt = stmt.where(Thread.theme_id == filters.theme.id)
    if filters.author is not None:
        stmt = stmt.where(Synthesis.author_id == filters.author.id)
    if filters.since in PERIODS:
        stmt = stmt.where(Synthesis.published_at >= utcnow() - PERIODS[filters.since])
    return stmt


#: With a filter, this many times more matches are examined, so that a filter on a
#: quiet author or theme still finds their posts among a common word's matches.
FILTERED_SCAN_FACTOR = 10


#: The kinds of result, each with the ``kind`` filters that keep it, its index rows'
#: kind, and the select of its visible rows among the matches.
_PARTS = (
    ((None, "fils", "messages"), POST, _post_matches),
    ((None, "fils"), SYNTHESIS, _synthesis_matches),
    ((None, "actualites"), NEWS, _news_matches),
    ((None, "seminaires"), SEMINAR, _seminar_matches),
    ((None, "seminaires"), SESSION, _session_matches),
)


def _pool(parts: list, examine: int, candidates: Candidates) -> list:
    """The ``examine`` most recent rows of ``parts`` with their index row's text, as
    plain rows, not ORM objects (a thousand of them, read once); with the candidates'
    count (``candidate_count``) when the backend did not know it."""
    if not parts:
        return []
    kept = union_all(*parts).subquery("kept") if len(parts) > 1 else parts[0].subquery("kept")
    newest = select(kept).order_by(kept.c.entry_id.desc()).limit(examine).subquery("newest")
    columns = [
        newest.c.kind,
        newest.c.object_id,
        newest.c.date,
        SearchEntry.title,
        SearchEntry.body,
    ]
    if candidates.count is None:
        count = select(func.count()).select_from(candidates.cte).scalar_subquery()
        columns.append(count.label("candidate_count"))
    stmt = select(*columns).join(SearchEntry, SearchEntry.id == newest.c.entry_id)
    return db.session.connection().execute(stmt).all()


@dataclass
class SearchPage(Page):
    #: Only the most recent matches were ranked: the query matched more than those.
    capped: bool = False


def search(
    viewer, query: ParsedQuery, filters: Filters, page: int, per_page: int, examine: int = 1000
) -> SearchPage:
    """One page of what ``viewer`` may read that matches ``query``, best first.

    The full-text index gives the most recent matches (``examine`` of them,
    ``FILTERED_SCAN_FACTOR`` times more when a filter narrows the search); of those the
    viewer may read and the filters keep, the ``examine`` most recent are ranked by
    :func:`~forum.search.text.score`. So a page costs the same in a forum of any size,
    and ``capped`` tells the reader when older matches were left out. Posts, news,
    seminars and sessions are ranked together; ties (same score) go to the most recent.
    Items are :class:`Result` objects. Queries: on PostgreSQL, the candidates first
    (the newest index row's id, then a statement per window searched); the ranked rows
    (on SQLite with the candidates' count, counted apart when the viewer may read none
    of them), then one load per kind present on the page.
    """
    filtered = any((filters.theme, filters.author, filters.since, filters.kind))
    limit = examine * (FILTERED_SCAN_FACTOR if filtered else 1)
    candidates = get_backend().candidates(query, limit)
    matches = candidates.cte
    parts = []
    for kinds, index_kind, matching in _PARTS:
        if filters.kind in kinds and (candidates.kinds is None or index_kind in candidates.kinds):
            parts.append(matching(matches, viewer, filters))
    pool = _pool(parts, examine, candidates)
    rank = scorer(query)
    # Best score first; equal scores, the most recent first. Columns by position: a
    # Row's attributes by name cost more than the scoring itself.
    pool.sort(key=lambda row: (rank(row[3], row[4]), row[2], row[1]), reverse=True)
    total = len(pool)
    number = clamp(page, total, per_page)
    rows = pool[(number - 1) * per_page : number * per_page]
    if candidates.count is not None:
        found = candidates.count
    elif pool:
        found = pool[0].candidate_count
    else:  # nothing the viewer may read: the candidates are counted on their own
        found = db.session.execute(select(func.count()).select_from(matches)).scalar_one()
    capped = total >= examine or found >= limit
    return SearchPage(
        items=_load(rows, query), number=number, per_page=per_page, total=total, capped=capped
    )


def _by_id(model, ids: list[int], *options) -> dict:
    """Rows of ``model`` with these ids, keyed by id: one query, none for no ids."""
    if not ids:
        return {}
    rows = db.session.execute(select(model).where(model.id.in_(ids)).options(*options))
    return {row.id: row for row in rows.scalars()}


def _post_rows(ids: list[int]) -> dict:
    """The posts shown, keyed by id, as plain rows: what the page shows of them, their
    thread's title and theme, their author's pseudo (None: the account is gone)."""
    if not ids:
        return {}
    stmt = (
        select(
            Post.id,
            Post.thread_id,
            Post.parent_id,
            Post.path,
            Post.body_html,
            Post.created_at,
            Thread.title,
            Thread.theme_id,
            User.username,
        )
        .join(Thread, Thread.id == Post.thread_id)
        .outerjoin(User, User.id == Post.author_id)
        .where(Post.id.in_(ids))
    )
    return {row.id: row for row in db.session.execute(stmt)}


def _load(rows, query: ParsedQuery) -> list[Result]:
    stems = query.highlight
    post_ids = [row.object_id for row in rows if row.kind == POST]
    news_ids = [row.object_id for row in rows if row.kind == NEWS]
    seminar_ids = [row.object_id for row in rows if row.kind == SEMINAR]
    session_ids = [row.object_id for row in rows if row.kind == SESSION]
    syntheses = _by_id(
        Synthesis,
        [row.object_id for row in rows if row.kind == SYNTHESIS],
        joinedload(Synthesis.thread).joinedload(Thread.theme),
        joinedload(Synthesis.author),
    )
    posts = _post_rows(post_ids)
    news = _by_id(News, news_ids, joinedload(News.theme), joinedload(News.author))
    seminars = _by_id(Seminar, seminar_ids)
    sessions = _by_id(Session, session_ids, joinedload(Session.seminar), joinedload(Session.theme))
    organiser_ids = {s.created_by_id for s in seminars.values()} | {
        s.seminar.created_by_id for s in sessions.values()
    }
    organiser_ids.discard(None)
    organisers = _by_id(User, list(organiser_ids))
    results = []
    for row in rows:
        if row.kind == POST and row.object_id in posts:
            post = posts[row.object_id]
            results.append(
                Result(
                    kind="fil" if post.parent_id is None else "message",
                    item=post,
                    url_endpoint="discussions.permalink",
                    url_args={"post_id": post.id},
                    title=highlight(post.title, stems, width=1000),
                    snippet=highlight(
                        content.plain_text(post.body_html, limit=PLAIN_TEXT_LIMIT), stems
                    ),
                    # Already in the session, like every theme the page lists.
                    theme=db.session.get(Theme, post.theme_id),
                    author=None if post.username is None else Byline(post.username),
                    date=post.created_at,
                )
            )
        elif row.kind == NEWS and row.object_id in news:
            item = news[row.object_id]
            results.append(
                Result(
                    kind="actualite",
                    item=item,
                    url_endpoint="news.detail",
                    url_args={"news_id": item.id},
                    title=highlight(item.title, stems, width=1000),
                    snippet=highlight(
                        content.plain_text(item.body_html, limit=PLAIN_TEXT_LIMIT), stems
                    ),
                    theme=item.theme,
                    author=item.author,
                    date=item.published_at,
                )
            )
        elif row.kind == SEMINAR and row.object_id in seminars:
            seminar = seminars[row.object_id]
            results.append(
                Result(
                    kind="seminaire",
                    item=seminar,
                    url_endpoint="seminars.seminar",
                    url_args={"seminar_id": seminar.id},
                    title=highlight(seminar.title, stems, width=1000),
                    snippet=highlight(
                        content.plain_text(seminar.description_html, limit=PLAIN_TEXT_LIMIT),
                        stems,
                    ),
                    theme=None,
                    author=organisers.get(seminar.created_by_id),
                    date=seminar.starts_at,
                )
            )
        elif row.kind == SYNTHESIS and row.object_id in syntheses:
            results.append(_synthesis_result(syntheses[row.object_id], stems))
        elif row.kind == SESSION and row.object_id in sessions:
            session = sessions[row.object_id]
            text = " ".join(
                part
                for part in (
                    session.speakers.replace("\n", " ; "),
                    content.plain_text(session.description_html, limit=PLAIN_TEXT_LIMIT),
                    content.plain_text(session.minutes_html, limit=PLAIN_TEXT_LIMIT),
                )
                if part
            )
            results.append(
                Result(
                    kind="seance",
                    item=session,
                    url_endpoint="seminars.session",
                    url_args={"session_id": session.id},
                    title=highlight(
                        f"{session.title} — {session.seminar.title}", stems, width=1000
                    ),
                    snippet=highlight(text, stems),
                    theme=session.theme,
                    author=organisers.get(session.seminar.created_by_id),
                    date=session.starts_at,
                )
            )
    return results


def _synthesis_result(synthesis: Synthesis, stems) -> Result:
    """A published synthesis: "Synthèse — <thread title>", linking to it on the thread."""
    thread = synthesis.thread
    return Result(
        kind="synthese",
        item=synthesis,
        url_endpoint="discussions.thread",
        url_args={"thread_id": thread.id, "_anchor": "synthese"},
        title=highlight(_("Synthèse — %(title)s", title=thread.title), stems, width=1000),
        snippet=highlight(synthesis_text(synthesis.body_html), stems),
        theme=thread.theme,
        author=synthesis.author,
        date=synthesis.published_at,
    )
