"""Words as the index sees them, the parsed query, and highlighted snippets.

The same :func:`index_words` runs at index time and at query time: accents and
case are folded, each word is stemmed by the Snowball French stemmer, so
"Développement" and "developpement", "logements" and "logement" meet. Nothing
the user types reaches a search engine's syntax: a query becomes lists of
stems, which each backend quotes or binds itself.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from flask_babel import gettext as _
from markupsafe import Markup, escape

from forum.refusals import Refused

#: Longest query accepted, in characters.
MAX_QUERY_LENGTH = 500
#: Words or phrases of a query beyond this are ignored.
MAX_TERMS = 16
#: Longer "words" (a pasted hash, a URL) are cut: stems never need more.
MAX_WORD_LENGTH = 60

_WORD_RE = re.compile(r"[^\W_]+")
_QUERY_PART_RE = re.compile(r'(-?)"([^"]*)"|(\S+)')
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Elided articles and pronouns ("l'", "d'", "qu'") carry no meaning on their own.
_ELISIONS = frozenset({"c", "d", "j", "l", "m", "n", "s", "t", "qu"})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})

_stemmer = snowballstemmer.stemmer("french")
_stemmer_lock = threading.Lock()


def fold(text: str) -> str:
    """Lower-case, without accents or ligatures: "Cœur Économie" -> "coeur economie"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The stem of one folded word; the stemmer object is not thread-safe, hence the lock."""
    with _stemmer_lock:
        return _stemmer.stemWord(word)


def _keep(word: str) -> bool:
    return word not in _ELISIONS and (len(word) > 1 or word.isdigit())


def index_words(text: str) -> list[str]:
    """The stems of ``text``, in order: what the index stores and queries look for."""
    words = _WORD_RE.findall(fold(text))
    return [stem(word[:MAX_WORD_LENGTH]) for word in words if _keep(word)]


def normalise(text: str) -> str:
    """``text`` as stored in the index: its stems separated by spaces."""
    return " ".join(index_words(text))


@dataclass
class ParsedQuery:
    """What to look for: each term is a phrase of one or more stems, matched adjacently."""

    required: list[tuple[str, ...]] = field(default_factory=list)
    excluded: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def highlight(self) -> frozenset[str]:
        return frozenset(s for term in self.required for s in term)


def parse_query(raw: str) -> ParsedQuery:
    """Read a query: words (all required), "phrases in quotes", -word or -"phrase" to exclude.

    :raise Refused: too long, or nothing left to look for.
    """
    raw = _CONTROL_RE.sub(" ", raw or "")
    if len(raw) > MAX_QUERY_LENGTH:
        raise Refused(
            _(
                "Votre recherche fait %(length)d caractères ; raccourcissez-la à %(limit)d au plus.",
                length=len(raw),
                limit=MAX_QUERY_LENGTH,
            )
        )
    parsed = ParsedQuery()
    for match in _QUERY_PART_RE.finditer(raw):
        negated_phrase, phrase, word = match.groups()
        if phrase is not None:
            negated, text = bool(negated_phrase), phrase
        else:
            negated, text = word.startswith("-") and len(word) > 1, word
        stems = tuple(index_words(text))
        if not stems:
            continue
        target = parsed.excluded if negated else parsed.required
        if stems not in target and len(parsed.required) + len(parsed.excluded) < MAX_TERMS:
            target.append(stems)
    if not parsed.required:
        raise Refused(
            _(
                "Indiquez au moins un mot à chercher (lettres ou chiffres) ; "
                "un mot précédé d'un tiret est exclu des résultats."
            )
        )
    return parsed


def highlight(text: str, stems: frozenset[str], width: int = 40) -> Markup:
    """An escaped extract of ``text`` around the first matched word, matches in ``<mark>``.

    ``width`` is the number of words shown. The text is escaped piece by piece here: no
    markup from the database or the search engine ever reaches the page.
    """
    found = _WORD_RE.finditer(text)
    # Words are read up to the first match (or the end), then only as far as the extract
    # goes, and one more to know whether the text goes on.
    words = []
    hit = None
    for number, match in enumerate(found):
        words.append(match)
        if _word_stem(match.group()) in stems:
            hit = number
            break
    if not words:
        return escape(text)
    first = max(0, (hit or 0) - width // 4)
    for match in found:
        if len(words) > first + width:
            break
        words.append(match)
    last = min(len(words), first + width)
    start = 0 if first == 0 else words[first].start()
    end = len(text) if last == len(words) else words[last - 1].end()
    # Plain strings, each piece escaped, joined once: Markup's own operators escape
    # their operands again, which costs more than the rest.
    out: list[str] = ["…"] if start > 0 else []
    cursor = start
    # The words before the first match were looked at already: none matches.
    for number in range(last if hit is None else hit, last):
        match = words[number]
        if number != hit and _word_stem(match.group()) not in stems:
            continue
        out += (escape(text[cursor : match.start()]), "<mark>", escape(match.group()), "</mark>")
        cursor = match.end()
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return Markup("".join(out))  # noqa: S704 - every piece escaped above


@lru_cache(maxsize=65_536)
def _word_stem(word: str) -> str | None:
    """The stem a word of a text is indexed under; None for a word the index leaves out."""
    folded = fold(word)
    return stem(folded[:MAX_WORD_LENGTH]) if _keep(folded) else None


#: Weights of the title and body: a word in the thread title counts more.
TITLE_WEIGHT, BODY_WEIGHT = 4.0, 1.0
#: BM25's term-frequency saturation and length normalisation.
K1, B = 1.2, 0.75
#: A body of this many characters of stems is "of ordinary length" for the normalisation.
TYPICAL_BODY_LENGTH = 400.0


def score(query: ParsedQuery, title: str, body: str) -> float:
    """BM25 without the inverse document frequency, over an index row's ``title`` and ``body``.

    Higher is better. Every required term counts alike (weighing a word by its rarity
    is what needs every match); a term in the title counts ``TITLE_WEIGHT`` times one in
    the body, repeats saturate, and a long body weighs each occurrence less. ``title``
    and ``body`` are stems separated by spaces, as :func:`normalise` makes them.
    """
    return scorer(query)(title, body)


def scorer(query: ParsedQuery) -> Callable[[str, str], float]:
    """:func:`score` for many rows of one query: ``scorer(query)(title, body)``.

    The search ranks a thousand rows a page; what depends on the query alone is made once.
    """
    needles = tuple(" " + " ".join(term) + " " for term in query.required)

    def rank(title: str, body: str) -> float:
        body = f" {body} "
        norm = K1 * (1 - B + B * len(body) / TYPICAL_BODY_LENGTH)
        # Most rows are replies, without a title: nothing to count there (a term adding
        # 0.0 would leave the sum as it is).
        title = f" {title} " if title else ""
        total = 0.0
        for needle in needles:
            if title:
                in_title = title.count(needle)
                total += TITLE_WEIGHT * in_title / (in_title + K1)
            in_body = body.count(needle)
            total += BODY_WEIGHT * in_body * (K1 + 1) / (in_body + norm)
        return total

    return rank
