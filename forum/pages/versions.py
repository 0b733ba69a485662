"""Move page versions in the writer's transaction; read a page's version in one query.

Services call :func:`touch` once, just before their commit, naming what they changed:
``touch(thread=thread)`` for a post or a thread, ``touch(theme=theme)`` for a theme,
``touch(home=True)`` for the home page's news and seminars, ``touch(site=True)`` for
what shows on every page (a theme's name, a member's name). The counters commit with
the change or not at all, so a reader who sees the new counter sees the new rows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, and_, bindparam, func, or_, select, text

from forum.db import utcnow
from forum.extensions import db
from forum.pages.models import HOME, SITE, THEME, THREAD, PageVersion

_table = PageVersion.__table__


def touch(
    *,
    thread=None,
    theme=None,
    threads: Iterable = (),
    themes: Iterable = (),
    home: bool = False,
    site: bool = False,
    relatives: bool = False,
) -> None:
    """Bump the versions of the pages showing these objects, in the current transaction.

    A thread's pages are its page, its branches and its feed; its theme's pages and the
    home page follow (they list it). ``thread``/``threads`` take Thread objects or ids
    (with ids, pass their themes too); ``theme``/``themes`` Theme objects or ids.
    ``relatives``: ``thread``'s visibility changed (its opening post was hidden or shown),
    so the threads split from it, or it from, change too (their pages link to it).
    """
    keys: set[tuple[str, int]] = set()
    for item in ([thread] if thread is not None else []) + list(threads):
        if isinstance(item, int):
            keys.add((THREAD, item))
        else:
            keys.add((THREAD, item.id))
            keys.add((THEME, item.theme_id))
    for item in ([theme] if theme is not None else []) + list(themes):
        keys.add((THEME, item if isinstance(item, int) else item.id))
    if relatives and thread is not None:
        keys.update((THREAD, related) for related in _split_relatives(thread))
    if home:
        keys.add((HOME, 0))
    if site:
        keys.add((SITE, 0))
    if not keys:
        return
    params: dict = {"now": utcnow()}
    # Sorted: two writers bumping the same rows take their locks in the same order.
    for n, (scope, ref) in enumerate(sorted(keys)):
        params[f"scope{n}"], params[f"ref{n}"] = scope, ref
    db.session.execute(_bump(len(keys)), params)


@functools.cache
def _bump(count: int):
    """One upsert moving ``count`` counters, the same on SQLite and PostgreSQL: written
    out once per count, so that SQLAlchemy caches it (its dialect INSERT … ON CONFLICT
    is built and compiled anew on every call, which costs more than running it)."""
    rows = ", ".join(f"(:scope{n}, :ref{n}, 1, :now)" for n in range(count))  # placeholders
    insert = f"INSERT INTO page_versions (scope, ref_id, version, changed_at) VALUES {rows}"  # noqa: S608
    return text(
        f"{insert} ON CONFLICT (scope, ref_id) DO UPDATE SET"
        " version = page_versions.version + 1, changed_at = excluded.changed_at"
    ).bindparams(bindparam("now", type_=DateTime))


def _split_relatives(thread) -> list[int]:
    from forum.discussions.models import Thread

    clause = Thread.split_from_id == thread.id
    if thread.split_from_id is not None:
        clause = clause | (Thread.id == thread.split_from_id)
    return list(db.session.execute(select(Thread.id).where(clause)).scalars())


@dataclass(frozen=True)
class Version:
    """What a page depends on, summed: the cache key's part, and the Last-Modified date."""

    number: int
    changed_at: datetime | None


def _read(clause) -> Version:
    number, changed_at = db.session.execute(
        select(func.coalesce(func.sum(_table.c.version), 0), func.max(_table.c.changed_at)).where(
            clause
        )
    ).one()
    return Version(int(number), changed_at)


def _site():
    return and_(_table.c.scope == SITE, _table.c.ref_id == 0)


def for_home() -> Version:
    """The home page and the latest-threads feed: site, home and every theme."""
    return _read(_table.c.scope.in_([SITE, HOME, THEME]))


def for_thread(thread_id: int) -> Version:
    return _read(or_(_site(), and_(_table.c.scope == THREAD, _table.c.ref_id == thread_id)))


def for_theme_slug(slug: str) -> Version:
    from forum.discussions.models import Theme

    theme_id = select(Theme.id).where(Theme.slug == slug).scalar_subquery()
    return _read(or_(_site(), and_(_table.c.scope == THEME, _table.c.ref_id == theme_id)))
