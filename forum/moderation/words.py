"""Watched words: accent- and case-insensitive whole-word matching, without user regexes.

A text and each word are *folded* the same way (NFKD, combining marks dropped, casefold),
keeping one folded character per original character so a match maps back to the text
for masking. Words are escaped (``re.escape``) and joined into one alternation between
word boundaries: the pattern has no repetition a user wrote, so matching stays linear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Row, select

from forum.accounts.models import User
from forum.extensions import db
from forum.moderation import log
from forum.moderation.models import WatchedWord, WordAction
from forum.refusals import Refused

MASK = "■"


def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    folded = base.casefold()
    # One character in, one character out, so that offsets match the original text.
    return folded[0] if len(folded) == 1 else (folded[:1] or ch)


def fold(text: str) -> str:
    """Same length as ``text``: accents dropped, case folded ("Épée" -> "epee")."""
    return "".join(_fold_char(ch) for ch in text)


def word_key(word: str) -> str:
    return " ".join(fold(word).split())


@dataclass
class Screening:
    """What the watched words say about a text."""

    text: str
    blocked: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def _pattern(keys: list[str]) -> re.Pattern:
    # Longest first, so "mot long" wins over "mot"; spaces in phrases match any whitespace.
    alternatives = sorted(
        {re.escape(k).replace(r"\ ", r"\s+") for k in keys}, key=len, reverse=True
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def screen(text: str, rows: Sequence[Row] | None = None) -> Screening:
    """Match ``text`` against the watched words: the words found, and the masked text."""
    if rows is None:
        rows = load()
    result = Screening(text=text)
    if not rows or not text:
        return result
    by_key = {row.key: row for row in rows}
    folded = fold(text)
    pattern = _pattern(list(by_key))
    pieces, last = [], 0
    for match in pattern.finditer(folded):
        key = " ".join(match.group(0).split())
        row = by_key.get(key)
        if row is None:
            continue
        if row.action == WordAction.BLOCK:
            result.blocked.append(row.word)
        elif row.action == WordAction.REVIEW:
            result.review.append(row.word)
        else:
            pieces.append(text[last : match.start()])
            pieces.append(MASK * (match.end() - match.start()))
            last = match.end()
    pieces.append(text[last:])
    result.text = "".join(pieces)
    return result


#: What screening reads of the watched words, as plain rows (built once).
_words = WatchedWord.__table__
_SCREENED = select(_words.c.word, _words.c.key, _words.c.action)


def load() -> Sequence[Row]:
    """Every watched word (``word``, ``key``, ``action``): one query, to screen several
    texts of one write."""
    return db.session.execute(_SCREENED).all()


def check(text: str, rows: Sequence[Row] | None = None, *, title: bool = False):
    """The text to store (replaced words masked) and whether it must wait for review.

    ``title``: the text is a thread title (the refusal says so).

    :raise Refused: a blocked word, named in the message.
    """
    result = screen(text, rows)
    if result.blocked:
        if title:
            message = _(
                "Le titre contient une expression refusée sur ce forum : « %(word)s ». "
                "Reformulez-le puis envoyez-le de nouveau.",
                word=result.blocked[0],
            )
        else:
            message = _(
                "Votre message contient une expression refusée sur ce forum : « %(word)s ». "
                "Reformulez-le puis envoyez-le de nouveau.",
                word=result.blocked[0],
            )
        raise Refused(message)
    return result.text, bool(result.review)


def add(actor: User, word: str, action: str) -> WatchedWord:
    """:raise Refused: empty, too long, unknown action, or already in the list."""
    word = " ".join((word or "").split())
    if not word or "\x00" in word or len(word) > 100:
        raise Refused(_("Le mot doit faire entre 1 et 100 caractères."))
    if action not in {a.value for a in WordAction}:
        raise Refused(_("Choisissez l'action dans la liste."))
    key = word_key(word)
    if db.session.execute(select(WatchedWord.id).where(WatchedWord.key == key)).scalar():
        raise Refused(_("Ce mot est déjà surveillé."))
    row = WatchedWord(word=word, key=key, action=action, created_by_id=actor.id)
    db.session.add(row)
    log.record(actor, "word:add", word=word, word_action=action)
    db.session.commit()
    return row


def remove(actor: User, row: WatchedWord) -> None:
    log.record(actor, "word:remove", word=row.word, word_action=row.action)
    db.session.delete(row)
    db.session.commit()
