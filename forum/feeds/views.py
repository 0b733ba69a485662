"""``/feeds/…``: Atom documents built with feedgen from public content only.

Entry ids are the permalink URLs (stable: they never change with a title);
content is the stored, sanitised ``body_html``; dates are stored UTC, made
timezone-aware for feedgen. Deleted posts never appear. Every feed is built as an
anonymous reader sees the forum (:data:`READER`), whoever asks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, current_app, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.accounts.models import AnonymousUser
from forum.debate import synthesis as debate_synthesis
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.news.queries import published as published_news
from forum.permissions import Action, can, visible_posts, visible_threads
from forum.seminars.models import Seminar, SeminarStatus

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

#: Entries per feed.
FEED_SIZE = 30
ATOM = "application/atom+xml; charset=utf-8"
#: Largest id a row can have (a 32-bit integer column).
MAX_ID = 2**31 - 1
#: Who every feed is built for: a feed is a public document, read by feed readers and
#: shared, so it shows what an anonymous reader sees whatever cookie the request carries
#: (a moderator's session must not put hidden or pending posts in it).
READER = AnonymousUser()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _feed(feed_id: str, title: str, html_url: str, self_url: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.link(href=html_url, rel="alternate", type="text/html")
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.language("fr")
    feed.author({"name": current_app.config["FORUM_SITE_NAME"]})
    return feed


def _respond(feed: FeedGenerator, entries_updated: list[datetime]) -> Response:
    feed.updated(
        _aware(max(entries_updated)) if entries_updated else datetime(2026, 1, 1, tzinfo=UTC)
    )
    return Response(feed.atom_str(pretty=True), mimetype=ATOM)


def _thread_entries(feed: FeedGenerator, threads: list[Thread], openings: dict[int, Post]) -> list:
    dates = []
    # feedgen prepends entries: add the oldest first so the newest comes out on top.
    for thread in reversed(threads):
        url = url_for("discussions.thread", thread_id=thread.id, _external=True)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(thread.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.author({"name": thread.author.username})
        entry.published(_aware(thread.created_at))
        entry.updated(_aware(thread.created_at))
        entry.category(term=thread.theme.slug, label=thread.theme.name)
        opening = openings.get(thread.id)
        if opening is not None:
            entry.content(opening.body_html, type="html")
        dates.append(thread.created_at)
    return dates


def _threads_feed(feed: FeedGenerator, theme: Theme | None) -> Response:
    stmt = visible_threads(select(Thread), READER).options(joinedload(Thread.author))
    if theme is not None:
        stmt = stmt.where(Thread.theme_id == theme.id)
    threads = list(
        db.session.execute(
            stmt.order_by(Thread.created_at.desc(), Thread.id.desc()).limit(FEED_SIZE)
        ).scalars()
    )
    openings = {}
    if threads:
        posts = db.session.execute(
            visible_posts(select(Post), READER).where(
                # The opening post's path is empty: one lookup per thread on (thread_id, path).
                Post.thread_id.in_([t.id for t in threads]),
                Post.path == "",
            )
        ).scalars()
        openings = {post.thread_id: post for post in posts}
    return _respond(feed, _thread_entries(feed, threads, openings))


@bp.route("/latest.atom")
def latest():
    home = url_for("discussions.home", _external=True)
    feed = _feed(
        url_for(".latest", _external=True),
        _("%(site)s — nouveaux fils", site=current_app.config["FORUM_SITE_NAME"]),
        home,
        url_for(".latest", _external=True),
    )
    feed.subtitle(_("Les derniers fils de discussion ouverts sur le forum."))
    return _threads_feed(feed, None)


@bp.route("/themes/<slug>.atom")
def theme(slug: str):
    theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar()
    if theme is None:
        abort(404)
    self_url = url_for(".theme", slug=slug, _external=True)
    feed = _feed(
        self_url,
        _("%(theme)s — nouveaux fils", theme=theme.name),
        url_for("discussions.theme", slug=slug, _external=True),
        self_url,
    )
    feed.subtitle(theme.description or theme.name)
    return _threads_feed(feed, theme)


@bp.route("/news.atom")
def news():
    self_url = url_for(".news", _external=True)
    feed = _feed(
        self_url,
        _("%(site)s — actualités", site=current_app.config["FORUM_SITE_NAME"]),
        url_for("news.index", _external=True),
        self_url,
    )
    feed.subtitle(_("Les actualités du réseau Rencontres sociales."))
    items = list(db.session.execute(published_news(READER).limit(FEED_SIZE)).scalars())
    for item in reversed(items):
        url = url_for("news.detail", news_id=item.id, _external=True)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(item.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.author({"name": item.author.username})
        entry.published(_aware(item.published_at))
        entry.updated(_aware(item.published_at))
        if item.theme is not None:
            entry.category(term=item.theme.slug, label=item.theme.name)
        entry.content(item.body_html, type="html")
    return _respond(feed, [item.published_at for item in items])


@bp.route("/threads/<int:thread_id>.atom")
def thread(thread_id: int):
    # Beyond a 32-bit integer PostgreSQL would refuse the comparison itself.
    # The thread and its published synthesis (an entry of the feed), in one query.
    thread, published = (
        debate_synthesis.thread_with_published(thread_id) if thread_id <= MAX_ID else (None, None)
    )
    if thread is None or not can(READER, Action.THREAD_VIEW, thread):
        abort(404)
    self_url = url_for(".thread", thread_id=thread_id, _external=True)
    feed = _feed(
        self_url,
        thread.title,
        url_for("discussions.thread", thread_id=thread_id, _external=True),
        self_url,
    )
    feed.subtitle(_("Les derniers messages du fil « %(title)s ».", title=thread.title))
    posts = list(
        db.session.execute(
            visible_posts(select(Post), READER)
            .where(Post.thread_id == thread.id)
            .options(joinedload(Post.author))
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(FEED_SIZE)
        ).scalars()
    )
    dates = []
    for post in reversed(posts):
        url = url_for("discussions.permalink", post_id=post.id, _external=True)
        entry = feed.add_entry()
        entry.id(url)
        if post.is_opening:
            entry.title(thread.title)
        else:
            entry.title(_("Réponse de %(name)s", name=post.author.username))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.author({"name": post.author.username})
        entry.published(_aware(post.created_at))
        updated = post.edited_at or post.created_at
        entry.updated(_aware(updated))
        entry.content(post.body_html, type="html")
        dates.append(updated)
    if published is not None:
        url = url_for("debate.synthesis_page", thread_id=thread.id, _external=True)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(_("Synthèse du débat : %(title)s", title=thread.title))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.author({"name": published.author.username})
        entry.published(_aware(published.published_at))
        entry.updated(_aware(max(published.updated_at, published.published_at)))
        entry.content(debate_synthesis.html_for_feed(published), type="html")
        dates.append(max(published.updated_at, published.published_at))
    return _respond(feed, dates)


@bp.route("/seminars.atom")
def seminars():
    """Published seminars, latest start first (so the upcoming ones lead); drafts never."""
    self_url = url_for(".seminars", _external=True)
    feed = _feed(
        self_url,
        _("%(site)s — séminaires", site=current_app.config["FORUM_SITE_NAME"]),
        url_for("seminars.index", _external=True),
        self_url,
    )
    feed.subtitle(_("Les séminaires du réseau Rencontres sociales : dates, lieux, programmes."))
    items = list(
        db.session.execute(
            select(Seminar)
            .where(Seminar.status == SeminarStatus.PUBLISHED.value)
            .order_by(Seminar.starts_at.desc(), Seminar.id.desc())
            .limit(FEED_SIZE)
        ).scalars()
    )
    dates = []
    for seminar in reversed(items):
        url = url_for("seminars.seminar", seminar_id=seminar.id, _external=True)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(seminar.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(_aware(seminar.created_at))
        # No modification date is stored: the creation date is the stable "updated".
        entry.updated(_aware(seminar.created_at))
        where = ", ".join(part for part in (seminar.venue, seminar.address) if part)
        when = format_datetime(seminar.starts_at, "EEEE d MMMM y, HH:mm")
        header = Markup("<p><strong>{}</strong>{}</p>").format(
            when, Markup(" — {}").format(where) if where else ""
        )
        # description_html is stored sanitised; the header escapes venue and address.
        entry.content(str(header) + seminar.description_html, type="html")
        dates.append(seminar.created_at)
    return _respond(feed, dates)
