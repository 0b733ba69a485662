"""Jinja globals and filters: ``can()``, translations, dates in Europe/Paris, "il y a 3
heures", URL patterns.

A thread page shows hundreds of posts. What is the same for all of them is found once
per page: the reader's locale, time zone and translations (:class:`PageLocale`, put in
every template's context), and URL patterns (:func:`url_pattern`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from babel.dates import TIMEDELTA_UNITS
from flask import Flask, request, url_for
from flask_babel import (
    format_datetime,
    format_timedelta,
    get_locale,
    get_timezone,
    get_translations,
)
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from forum import permissions
from forum.db import MAX_ID, utcnow

#: Translated strings kept per worker, formatted: most of a page's words have no variables.
TRANSLATED_CACHED = 4096
#: Formatted dates kept per worker: a thread page shows two per post, and Babel takes
#: about 80 µs for each, more than the rest of the post's markup.
FORMATTED_DATES_CACHED = 16_384
#: Up to this age a date is shown in words ("il y a 3 heures"), beyond it as itself.
RELATIVE_FOR = timedelta(days=30)
#: A date and time to the minute, in the reader's time zone.
EXACT = "d MMMM y, HH:mm"


def can(action: str, obj=None) -> bool:
    return permissions.can(current_user, action, obj)


@dataclass(frozen=True, slots=True)
class PageLocale:
    """The reader's language, time zone and translations, and the time: read once per page.

    Flask-Babel takes microseconds to find each of them again, and a thread page asks
    hundreds of times (a few words and two dates per post). A context processor puts one
    in every template's context as ``page_locale``; ``_()`` and the date filters read it.
    """

    locale: str
    timezone: str
    now: datetime
    translations: Any


def current_page_locale() -> PageLocale:
    """The current locale, time zone and translations, for one template's rendering."""
    return PageLocale(str(get_locale()), str(get_timezone()), utcnow(), get_translations())


def _page_locale(context: Context) -> PageLocale:
    return context.get("page_locale") or current_page_locale()


# -- translations ---------------------------------------------------------------------------


def _format(text: str, variables: dict, autoescape: bool) -> str:
    # As Jinja's new-style gettext: escaped in HTML templates, always a %-format string.
    return (Markup(text) if autoescape else text) % variables  # noqa: S704 - our catalogs


@lru_cache(maxsize=TRANSLATED_CACHED)
def _translated(translations, autoescape: bool, *message) -> str:
    # A pure function of its key: a locale's translations are loaded once per worker.
    if len(message) == 1:
        return _format(translations.ugettext(message[0]), {}, autoescape)
    singular, plural, num = message
    return _format(translations.ungettext(singular, plural, num), {"num": num}, autoescape)


@pass_context
def gettext(context: Context, string: str, /, **variables) -> str:
    """``_()`` in templates: Jinja's new-style gettext, with the page's translations."""
    page = _page_locale(context)
    autoescape = context.eval_ctx.autoescape
    if variables:
        return _format(page.translations.ugettext(string), variables, autoescape)
    return _translated(page.translations, autoescape, string)


@pass_context
def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables) -> str:
    """``ngettext()`` in templates, likewise ("3 réponses" is worked out once per worker)."""
    page = _page_locale(context)
    autoescape = context.eval_ctx.autoescape
    if variables:
        variables.setdefault("num", num)
        text = page.translations.ungettext(singular, plural, num)
        return _format(text, variables, autoescape)
    return _translated(page.translations, autoescape, singular, plural, num)


# -- dates ----------------------------------------------------------------------------------


@lru_cache(maxsize=FORMATTED_DATES_CACHED)
def _formatted(value: datetime, format: str, locale: str, timezone: str) -> str:
    # A pure function of its key: ``locale`` and ``timezone`` are those of the current
    # request, which Babel reads again on a miss.
    return format_datetime(value, format)


#: Babel's threshold for moving to a larger unit: 0.9 hour (54 minutes) is "1 heure".
IN_WORDS_THRESHOLD = 0.9
#: Words for a time span, by locale, direction, unit and count: a few hundred at most.
_IN_WORDS: dict[tuple[str, bool, str, int], str] = {}


def _in_words(delta: timedelta, locale: str) -> str:
    """ "il y a 3 heures": Babel's words for ``delta``, kept once Babel has said them.

    Babel takes 11 µs; its words depend only on the unit it picks and the rounded count,
    which are worked out here as Babel does, so it is asked once for each.
    """
    span = abs(delta.total_seconds())
    unit, per_unit = next((u, s) for u, s in TIMEDELTA_UNITS if span / s >= IN_WORDS_THRESHOLD)
    key = (locale, delta >= timedelta(0), unit, round(span / per_unit))
    words = _IN_WORDS.get(key)
    if words is None:
        words = format_timedelta(delta, add_direction=True, threshold=IN_WORDS_THRESHOLD)
        _IN_WORDS[key] = words
    return words


def _timeago(value: datetime, now: datetime, locale: str, timezone: str) -> str:
    delta = value - now
    if abs(delta.days) > RELATIVE_FOR.days:
        return _formatted(value, "d MMMM y", locale, timezone)
    if abs(delta.total_seconds()) < 45:
        return "à l'instant" if locale == "fr" else "just now"
    return _in_words(delta, locale)


def _time_element(
    value: datetime, relative: bool, now: datetime, locale: str, timezone: str
) -> Markup:
    exact = _formatted(value, EXACT, locale, timezone)
    return Markup('<time datetime="%sZ" title="%s">%s</time>') % (
        value.isoformat(timespec="seconds"),
        exact,
        _timeago(value, now, locale, timezone) if relative else exact,
    )


@lru_cache(maxsize=FORMATTED_DATES_CACHED)
def _settled_time_element(value: datetime, relative: bool, locale: str, timezone: str) -> Markup:
    # Not relative, or older than RELATIVE_FOR: the element no longer depends on now.
    return _time_element(value, relative, utcnow(), locale, timezone)


@pass_context
def paris_datetime(context: Context, value: datetime | None, format: str = EXACT) -> str:
    """A stored UTC datetime shown in the reader's time zone (Europe/Paris)."""
    if value is None:
        return ""
    page = _page_locale(context)
    return _formatted(value, format, page.locale, page.timezone)


@pass_context
def timeago(context: Context, value: datetime | None) -> str:
    """ "il y a 3 heures", or the date itself beyond a month."""
    if value is None:
        return ""
    page = _page_locale(context)
    return _timeago(value, page.now, page.locale, page.timezone)


@pass_context
def time_tag(context: Context, value: datetime | None, relative: bool = True) -> Markup:
    """A ``<time>`` element: words for the eye, the exact Paris time on hover."""
    if value is None:
        return Markup("")
    page = _page_locale(context)
    if not relative or value < page.now - RELATIVE_FOR:
        return _settled_time_element(value, relative, page.locale, page.timezone)
    return _time_element(value, relative, page.now, page.locale, page.timezone)


# -- URLs -----------------------------------------------------------------------------------


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (pagination links)."""
    args = request.args.to_dict()
    args.update({key: value for key, value in changes.items()})
    args = {key: value for key, value in args.items() if value is not None}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def url_pattern(endpoint: str, slot: str, **values) -> str:
    """``url_for(endpoint, **values)`` with ``%s`` where the value of ``slot`` goes.

    One ``url_for`` for a whole page, then ``pattern % post.id`` for each post: building
    a URL with Werkzeug costs more than the rest of a post's markup. The value goes in
    URL form: a number as it is, text percent-encoded (``username | urlencode`` gives
    the URL ``url_for`` gives, for any valid username).
    """
    marker = str(MAX_ID)
    url = url_for(endpoint, **values, **{slot: MAX_ID})
    if url.count(marker) != 1:
        raise ValueError(f"cannot tell {slot!r} apart in {url!r}")
    return url.replace("%", "%%").replace(marker, "%s")


def register_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=can,
        url_with=url_with,
        url_pattern=url_pattern,
        current_locale=lambda: str(get_locale() or "fr"),
        site_name=app.config["FORUM_SITE_NAME"],
        # In place of Flask-Babel's, which look the translations up again for each string.
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
    )
    app.jinja_env.filters.update(paris=paris_datetime, timeago=timeago, time_tag=time_tag)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _page_locale_in_context():
        return {"page_locale": current_page_locale()}
