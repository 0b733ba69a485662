"""Normalisation, query parsing and snippets: no database needed."""

from __future__ import annotations

import pytest

from forum.refusals import Refused
from forum.search.text import highlight, index_words, normalise, parse_query


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("développement", "developpement"),
        ("Développement", "DEVELOPPEMENT"),
        ("logements", "logement"),
        ("coopératives", "coopérative"),
        ("Cœur", "coeur"),
        ("mutuelles", "Mutuelle"),
    ],
)
def test_same_stem(a, b):
    assert index_words(a) == index_words(b)


def test_elisions_are_dropped():
    assert normalise("l'économie d'aujourd'hui") == normalise("économie aujourd hui")


def test_parse_words_phrases_and_exclusions():
    query = parse_query('logements "circuits courts" -mutuelle -"tiers lieu"')
    assert query.required == [
        tuple(index_words("logements")),
        tuple(index_words("circuits courts")),
    ]
    assert query.excluded == [tuple(index_words("mutuelle")), tuple(index_words("tiers lieu"))]


@pytest.mark.parametrize("raw", ["", "   ", "-logement", "!!!", '""', "\x00", "- -"])
def test_nothing_to_look_for_is_refused(raw):
    with pytest.raises(Refused):
        parse_query(raw)


def test_too_long_is_refused():
    with pytest.raises(Refused, match="raccourcissez"):
        parse_query("a" * 5000)


def test_highlight_escapes_and_marks():
    stems = parse_query("logement").highlight
    html = str(highlight("<b>Le logement</b> & les logements sociaux", stems))
    assert html == (
        "&lt;b&gt;Le <mark>logement</mark>&lt;/b&gt; &amp; les <mark>logements</mark> sociaux"
    )


def test_highlight_windows_long_text():
    text = " ".join(["mot"] * 200 + ["coopérative"] + ["fin"] * 200)
    html = str(highlight(text, parse_query("cooperatives").highlight, width=20))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>coopérative</mark>" in html
    assert len(html) < 200
