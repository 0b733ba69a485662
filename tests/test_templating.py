"""Template helpers: translations and dates read once per page, URL patterns.

Each shortcut must give what the slow way gives: Flask-Babel's words, Babel's "il y a
3 heures", ``url_for``'s URLs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import chain

import pytest
from flask import render_template_string, url_for
from flask_babel import force_locale, format_timedelta
from jinja2.filters import do_urlencode

from forum import create_app
from forum.db import MAX_ID, utcnow
from forum.templating import IN_WORDS_THRESHOLD, _in_words, url_pattern
from tests.conftest import base_config

UNITS = (1, 60, 3600, 86400, 7 * 86400)


@pytest.fixture
def bare_app(tmp_path):
    """The app, never touching its database."""
    return create_app(base_config(f"sqlite:///{tmp_path / 'forum.sqlite3'}", str(tmp_path)))


def test_templates_translate_as_flask_babel_does(bare_app):
    page = (
        '{{ _("Répondre") }}|{{ ngettext("%(num)d réponse", "%(num)d réponses", 3) }}'
        '|{{ ngettext("%(num)d réponse", "%(num)d réponses", 1) }}'
        '|{{ _("Messages du fil : %(title)s", title="<b>") }}'
        '|{% autoescape false %}{{ _("Messages du fil : %(title)s", title="<b>") }}'
        "{% endautoescape %}"
    )
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(page) == (
            "Reply|3 replies|1 reply|Posts in the thread: &lt;b&gt;|Posts in the thread: <b>"
        )
    with bare_app.test_request_context(headers={"Accept-Language": "fr"}):
        assert render_template_string(page).startswith("Répondre|3 réponses|1 réponse|")


def test_time_tag_in_words_then_the_date_itself(bare_app):
    with bare_app.test_request_context(headers={"Accept-Language": "fr"}):
        tag = "{{ when | time_tag }}"
        recent = render_template_string(tag, when=utcnow() - timedelta(hours=3, minutes=5))
        assert recent.endswith(">il y a 3 heures</time>")
        old = datetime(2025, 3, 1, 11, 5)
        expected = (
            '<time datetime="2025-03-01T11:05:00Z" title="1 mars 2025, 12:05">1 mars 2025</time>'
        )
        assert render_template_string(tag, when=old) == expected
        assert render_template_string(tag, when=old) == expected  # kept whole
        exact = render_template_string("{{ when | time_tag(relative=False) }}", when=old)
        assert exact.endswith(">1 mars 2025, 12:05</time>")


def test_words_for_a_time_span_are_babels(bare_app):
    """Kept by unit and count: the words for any span are those Babel gives for it."""
    edges = {
        round(k * unit) + nudge
        for unit in UNITS
        for k in (IN_WORDS_THRESHOLD, 1.5, 2.5, 3.5, 10.5, 22.5)
        for nudge in (-1, 0, 1)
    }
    spans = chain(range(45, 4 * 3600, 7), range(4 * 3600, 30 * 86400, 97), sorted(edges))
    spans = [s for s in spans if 45 <= s <= 30 * 86400]
    for locale in ("fr", "en"):
        with bare_app.test_request_context(), force_locale(locale):
            for seconds in spans:
                for delta in (
                    timedelta(seconds=-seconds),
                    timedelta(seconds=seconds, microseconds=5),
                ):
                    expected = format_timedelta(
                        delta, add_direction=True, threshold=IN_WORDS_THRESHOLD
                    )
                    assert _in_words(delta, locale) == expected, delta


def test_url_patterns_give_the_urls_url_for_gives(bare_app):
    with bare_app.test_request_context():
        edit = url_pattern("discussions.edit_post", "post_id")
        assert edit % 42 == url_for("discussions.edit_post", post_id=42)
        reply = url_pattern("discussions.reply", "parent_id", thread_id=7)
        assert reply % 42 == url_for("discussions.reply", thread_id=7, parent_id=42)
        profile = url_pattern("accounts.profile", "username")
        for name in ("alice", "Zoé", "jean-luc.m_2", "Ωμέγα", "李"):
            assert profile % do_urlencode(name) == url_for("accounts.profile", username=name)
        with pytest.raises(ValueError, match="post_id"):
            url_pattern("discussions.branch", "post_id", thread_id=MAX_ID)


def test_url_patterns_keep_a_prefix_with_a_percent_sign(bare_app):
    """A forum served under a path with a percent sign in it."""
    with bare_app.test_request_context("/", base_url="http://localhost/100%25/"):
        edit = url_pattern("discussions.edit_post", "post_id")
        assert "%" in url_for("discussions.edit_post", post_id=42)
        assert edit % 42 == url_for("discussions.edit_post", post_id=42)
