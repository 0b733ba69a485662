"""Jinja globals and filters: ``can()``, dates in Europe/Paris, "il y a 3 heures"."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import Flask, request, url_for
from flask_babel import format_datetime, format_timedelta, get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup

from forum import permissions
from forum.db import utcnow


def can(action: str, obj=None) -> bool:
    return permissions.can(current_user, action, obj)


#: Formatted dates kept per worker: a thread page shows two per post, and Babel takes
#: about 80 µs for each, more than the rest of the post's markup.
FORMATTED_DATES_CACHED = 16_384


@lru_cache(maxsize=FORMATTED_DATES_CACHED)
def _formatted(value: datetime, format: str, locale: str, timezone: str) -> str:
    # A pure function of its key: ``locale`` and ``timezone`` are those of the current
    # request, which Babel reads again on a miss.
    return format_datetime(value, format)


def paris_datetime(value: datetime | None, format: str = "d MMMM y, HH:mm") -> str:
    """A stored UTC datetime shown in the reader's time zone (Europe/Paris)."""
    if value is None:
        return ""
    return _formatted(value, format, str(get_locale()), str(get_timezone()))


def timeago(value: datetime | None) -> str:
    """ "il y a 3 heures", or the date itself beyond a month."""
    if value is None:
        return ""
    delta = value - utcnow()
    if abs(delta.days) > 30:
        return paris_datetime(value, "d MMMM y")
    if abs(delta.total_seconds()) < 45:
        return "à l'instant" if str(get_locale()) == "fr" else "just now"
    return format_timedelta(delta, add_direction=True, threshold=0.9)


def time_tag(value: datetime | None, relative: bool = True) -> Markup:
    """A ``<time>`` element: words for the eye, the exact Paris time on hover."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{iso}Z" title="{exact}">{text}</time>').format(
        iso=value.isoformat(timespec="seconds"),
        exact=paris_datetime(value),
        text=timeago(value) if relative else paris_datetime(value),
    )


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (pagination links)."""
    args = request.args.to_dict()
    args.update({key: value for key, value in changes.items()})
    args = {key: value for key, value in args.items() if value is not None}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=can,
        url_with=url_with,
        current_locale=lambda: str(get_locale() or "fr"),
        site_name=app.config["FORUM_SITE_NAME"],
    )
    app.jinja_env.filters.update(paris=paris_datetime, timeago=timeago, time_tag=time_tag)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
