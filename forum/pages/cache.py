"""Anonymous readers' pages from a cache, keyed by the page's version.

Before the view runs, a cacheable request (GET or HEAD, no session user, no
remember cookie, no pending flash message) reads its page's version — one indexed
query — then answers ``304`` when the reader's copy is that version, or the stored
page when this version was stored, or lets the view render it. A rendered page is
stored only when it is a 200 that set no cookie and touched no session (no flash, no
CSRF token). The version is read *before* the page's rows, so a stored page is never
older than its key; every write bumps the versions it touches in its own transaction
(:func:`forum.pages.versions.touch`), so a reader never gets a page older than the last
commit, on any node. Members always get the live page.

The store is Flask-Caching's: memory per worker by default (at most
``FORUM_PAGE_CACHE_MEMORY_MB`` of pages in each), Redis when ``FORUM_REDIS_URL`` is set
(shared by every worker on every machine). Entries live at
most ``FORUM_PAGE_CACHE_SECONDS`` (relative dates such as "il y a 3 minutes" stay
right to that much); ``0`` turns the page cache off.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_caching.backends.simplecache import SimpleCache

from forum.extensions import cache
from forum.pages import versions

#: Endpoint -> how to read its page's version from the URL's values.
PAGES: dict[str, Callable[[dict], versions.Version]] = {
    "discussions.home": lambda _values: versions.for_home(),
    "discussions.theme": lambda values: versions.for_theme_slug(values["slug"]),
    "discussions.thread": lambda values: versions.for_thread(values["thread_id"]),
    "discussions.branch": lambda values: versions.for_thread(values["thread_id"]),
    "feeds.latest": lambda _values: versions.for_home(),
    "feeds.news": lambda _values: versions.for_home(),
    "feeds.seminars": lambda _values: versions.for_home(),
    "feeds.theme": lambda values: versions.for_theme_slug(values["slug"]),
    "feeds.thread": lambda values: versions.for_thread(values["thread_id"]),
}
#: Query arguments a cached page may have (others are served live, never stored).
CACHED_ARGS = frozenset({"page"})
#: Flask-Login's remember-me cookie: its bearer is a member even without a session.
REMEMBER_COOKIE = "remember_token"
HIT, MISS, LIVE = "hit", "miss", "live"


@dataclass(frozen=True)
class Entry:
    body: bytes
    content_type: str


def _anonymous() -> bool:
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE)
    return "_user_id" not in session and "_flashes" not in session and cookie not in request.cookies


def _cacheable() -> bool:
    return (
        current_app.config["FORUM_PAGE_CACHE_SECONDS"] > 0
        and request.method in ("GET", "HEAD")
        and request.endpoint in PAGES
        and set(request.args) <= CACHED_ARGS
        and _anonymous()
    )


def _key(version: versions.Version) -> str:
    path = request.full_path if request.query_string else request.path
    raw = f"{current_app.config['FORUM_PAGE_CACHE_BUILD']}|{get_locale()}|{version.number}|{path}"
    return "forum:page:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _validators(response: Response, key: str, version: versions.Version) -> None:
    response.set_etag(key[-24:], weak=True)
    if version.changed_at is not None:
        response.last_modified = version.changed_at.replace(microsecond=0)
    # The browser asks again each time (a 304 when nothing changed): never a stale page.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Cookie", "Accept-Language"))


def _not_modified(key: str, version: versions.Version) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(key[-24:])
    since = request.if_modified_since
    if since is None or version.changed_at is None:
        return False
    return since.replace(tzinfo=None) >= version.changed_at.replace(microsecond=0)


def _get(key: str) -> Entry | None:
    try:
        return cache.get(key)
    except Exception as exc:  # the store is down: serve the live page rather than an error
        current_app.logger.warning("page cache unavailable: %s", exc)
        return None


def _before() -> Response | None:
    if not _cacheable():
        g.page_cache = LIVE
        return None
    version = PAGES[request.endpoint](request.view_args or {})
    key = _key(version)
    if _not_modified(key, version):
        response = Response(status=304)
        _validators(response, key, version)
        g.page_cache = HIT
        return response
    entry = _get(key)
    if entry is None:
        g.page_cache, g.page_cache_key, g.page_cache_version = MISS, key, version
        return None
    response = Response(entry.body, content_type=entry.content_type)
    _validators(response, key, version)
    g.page_cache = HIT
    return response


def _after(response: Response) -> Response:
    state = g.get("page_cache", LIVE)
    response.headers["X-Page-Cache"] = state
    if state != MISS:
        return response
    key, version = g.page_cache_key, g.page_cache_version
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.headers.get("Set-Cookie")
        or session.modified
        or not _anonymous()
    ):
        response.headers["X-Page-Cache"] = LIVE
        return response
    entry = Entry(response.get_data(), response.content_type)
    try:
        cache.set(key, entry, timeout=current_app.config["FORUM_PAGE_CACHE_SECONDS"])
    except Exception as exc:
        current_app.logger.warning("page cache unavailable: %s", exc)
    _validators(response, key, version)
    return response


def _build_token(root: str) -> str:
    """A digest of the templates and translations: a new release never serves old pages."""
    digest = hashlib.sha256()
    for folder in ("templates", "translations"):
        for parent, dirs, files in sorted(os.walk(os.path.join(root, folder))):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".html", ".mo", ".xml", ".txt")):
                    path = os.path.join(parent, name)
                    digest.update(path[len(root) :].encode())
                    with open(path, "rb") as file:
                        digest.update(file.read())
    return digest.hexdigest()[:12]


class BoundedMemoryCache(SimpleCache):
    """Flask-Caching's memory store, bounded in bytes as well as in entries.

    A page of 500 posts weighs hundreds of KB: 2,000 of them (the store's bound in
    entries) would hold a worker's memory many times over. Storing a page first drops
    the expired ones, then the oldest, until the new one fits in ``budget`` bytes (what
    the store keeps: each page pickled); a page larger than the budget is not kept.
    """

    def __init__(self, *args, budget: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    @classmethod
    def factory(cls, app, config, args, kwargs):
        kwargs["budget"] = config["FORUM_PAGE_CACHE_BYTES"]
        return super().factory(app, config, args, kwargs)

    def stored_bytes(self) -> int:
        return sum(len(stored) for _expires, stored in self._cache.values())

    def set(self, key, value, timeout=None) -> bool:
        with self._lock:
            expires = self._normalize_timeout(timeout)
            stored = self.serializer.dumps(value)
            self._cache.pop(key, None)
            if len(stored) > self.budget:
                return False
            self._prune()
            room = self.budget - len(stored)
            if self.stored_bytes() > room:
                self._remove_expired(time.time())
                total = self.stored_bytes()
                for oldest in list(self._cache):  # in the order they were stored
                    if total <= room:
                        break
                    total -= len(self._cache.pop(oldest)[1])
            self._cache[key] = (expires, stored)
            return True

    def add(self, key, value, timeout=None) -> bool:
        with self._lock:
            return False if self.has(key) else self.set(key, value, timeout)


def init_page_cache(app: Flask, root: str) -> None:
    """Bind the store (memory or Redis) and install the hooks on ``app``."""
    redis_url = app.config["FORUM_REDIS_URL"]
    if redis_url:
        settings = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            # An unreachable Redis costs a request half a second at most, never a hang.
            "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    else:
        settings = {
            "CACHE_TYPE": "forum.pages.cache.BoundedMemoryCache",
            "CACHE_THRESHOLD": 2000,
            "FORUM_PAGE_CACHE_BYTES": app.config["FORUM_PAGE_CACHE_MEMORY_MB"] * 1024 * 1024,
        }
    settings["CACHE_KEY_PREFIX"] = ""
    cache.init_app(app, config=settings)
    app.config.setdefault("FORUM_PAGE_CACHE_BUILD", _build_token(root))
    app.before_request(_before)
    app.after_request(_after)
