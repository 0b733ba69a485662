"""Hostile Markdown bodies: what an attacker would post to tie up a worker.

Shared by the tests and by the benchmark ``bench/hostile.py`` (render and display
times). :data:`REFUSED`: far beyond a limit of :func:`forum.content.check_source`, each
must be refused. :data:`ACCEPTED`: the worst bodies still within every limit (and within
the 50,000 characters of a post), each must render. Names are what they are made of.
"""

from __future__ import annotations

from forum import content

_LINES = content.MAX_LINES
_WIDE = 49_000 // _LINES  # characters per line, to fill a post at the line limit

REFUSED: dict[str, str] = {
    "24 000 « ![ »": "![" * 24_000,
    "49 000 « [ »": "[" * 49_000,
    "24 000 « [ » puis « ](x) »": "[" * 24_000 + "](x)",
    "2 700 liens [a](b)": "[a](http://x.org) " * 2_700,
    "7 000 mentions": " ".join(f"@membre{i}" for i in range(7_000))[:49_000],
    "2 000 adresses nues": " ".join(f"https://exemple.org/{i}" for i in range(2_000))[:49_000],
    "16 000 emphases « *a »": "*a " * 16_000,
    "16 000 « _a »": "_a " * 16_000,
    "49 000 « < »": "<" * 49_000,
    "9 000 entités": "&amp;" * 9_000,
    "49 000 « \\ »": "\\" * 49_000,
    "16 000 paragraphes": "a\n\n" * 16_000,
    "12 000 éléments de liste": "- a\n" * 12_000,
    "49 000 « > » (citations)": ">" * 49_000,
    "200 listes imbriquées": "".join("  " * i + "- a\n" for i in range(200)),
    "49 000 espaces puis « - x »": " " * 49_000 + "- x",
}

ACCEPTED: dict[str, str] = {
    "400 éléments de liste": "- a\n" * _LINES,
    "400 lignes citées": "> a\n" * _LINES,
    "400 lignes de tableau": "| a | b |\n| - | - |\n" + "| a | b |\n" * (_LINES - 2),
    "400 titres": "# a\n" * _LINES,
    "400 lignes pleines": ("a b c d e : f-g " * (_WIDE // 16) + "\n") * _LINES,
    "8 000 lignes de code": "```\n" + "- [a]\n" * 8_000 + "```\n",
    "100 « ![ » puis « ](x) »": "![" * content.MAX_LINKS + "](x)",
    "100 « [ », 2 000 « * » puis « ](x) »": (
        "[" * content.MAX_LINKS + "*" * content.MAX_MARKS + "](x)"
    ),
    "100 liens": "[lien](https://exemple.org/page) " * content.MAX_LINKS,
    "100 adresses nues": " ".join(f"https://exemple.org/{i}" for i in range(content.MAX_LINKS)),
    "50 mentions": " ".join(f"@membre{i}" for i in range(content.MAX_MENTIONS_PER_POST)),
    "2 000 emphases « *a »": "*a " * content.MAX_MARKS,
    "2 000 « < »": "< " * content.MAX_MARKS,
    "2 000 « * » sur 46 000 caractères": ("abc *de* fghi " * 10 + "jklmnop " * 40 + "\n") * 100,
    "10 niveaux de citations et de listes": "".join(
        "> " * (i // 2) + ("- " if i % 2 else "") + "a\n" for i in range(content.MAX_DEPTH)
    ),
    "49 000 caractères de code": "```\n" + ("[*_<&`@x " * 54 + "\n") * 98 + "```\n",
    "37 000 caractères de texte": (
        "La coopérative d'habitant·es de Saint-Denis a réuni **trente familles** autour "
        "d'un projet commun : c'est-à-dire 30 % des lots. La mairie a suivi, l'office "
        "public aussi ; voir [le compte rendu](https://exemple.org/cr) de la réunion.\n\n"
        "Les locataires ont voté, le bailleur a signé : le chantier commence au printemps, "
        "avec une régie de quartier et deux entreprises d'insertion du territoire.\n\n"
    )
    * 95,
}
