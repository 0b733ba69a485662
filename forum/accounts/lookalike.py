"""Names that look alike: Unicode TR39 skeletons and mixed scripts.

Two usernames that render alike ("alice" and "аlice" with a Cyrillic а) have the same
*skeleton*: each character replaced by its prototype from Unicode's confusables data
(``confusables.txt`` beside this module, version 13.0.0, the mapping columns only).
Names are compared case-insensitively, so the skeleton is taken, case-folded and taken
again ("Ι" Greek capital iota -> "I" -> "i", "І" Cyrillic -> "I" -> "i"). The script of
each character comes from the ``confusable-homoglyphs`` package.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from confusable_homoglyphs import categories

#: Scripts that every name may mix with any other: digits, - _ . and combining marks.
_NEUTRAL = frozenset({"COMMON", "INHERITED"})
#: Scripts written together in one language (TR39 "highly restrictive" sets).
_WRITTEN_TOGETHER = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "BOPOMOFO"}),
    frozenset({"HAN", "HANGUL"}),
)


@cache
def _prototypes() -> dict[str, str]:
    text = resources.files("forum.accounts").joinpath("confusables.txt").read_text("utf-8")
    table = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        source, target = line.split(";")
        table[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target.split())
    return table


def _tr39(text: str) -> str:
    """TR39's skeleton: NFD, each character to its prototype, NFD again."""
    table = _prototypes()
    mapped = "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def skeleton(name: str) -> str:
    """What ``name`` looks like, case aside: equal skeletons, names a reader confuses."""
    return _tr39(_tr39(unicodedata.normalize("NFKC", name)).casefold())


def scripts(name: str) -> set[str]:
    """The scripts of the letters of ``name`` (digits and signs belong to none)."""
    return {categories.alias(ch) for ch in name} - _NEUTRAL


def is_mixed_script(name: str) -> bool:
    """Letters of two scripts that are not written together ("аlice": Cyrillic and Latin)."""
    found = scripts(name)
    return len(found) > 1 and not any(found <= allowed for allowed in _WRITTEN_TOGETHER)
