"""The territories of France: the 18 régions and 101 départements, by their INSEE codes.

The reference list ships with the project (``regions.csv``, ``departements.csv``: the
official codes and names of the Code officiel géographique) and is read once. Forms
offer these choices; organisations store the codes, pages show the names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region: str  # the code of its région

    @property
    def label(self) -> str:
        """ "93 — Seine-Saint-Denis", as lists show it."""
        return f"{self.code} — {self.name}"


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("forum.directory").joinpath(filename).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def regions() -> dict[str, Region]:
    """The régions by code, in alphabetical order of their names."""
    rows = [Region(row["code"], row["name"]) for row in _rows("regions.csv")]
    return {r.code: r for r in sorted(rows, key=lambda r: r.name)}


@cache
def departements() -> dict[str, Departement]:
    """The départements by code, in the order of their codes (01 … 2A, 2B … 976)."""
    rows = [
        Departement(row["code"], row["name"], row["region"]) for row in _rows("departements.csv")
    ]
    known = regions()
    for row in rows:
        if row.region not in known:
            raise ValueError(f"département {row.code}: unknown région {row.region}")
    return {d.code: d for d in rows}


def region_name(code: str | None) -> str:
    region = regions().get(code or "")
    return region.name if region else ""


def departement_name(code: str | None) -> str:
    departement = departements().get(code or "")
    return departement.name if departement else ""


def region_of(departement_code: str) -> str | None:
    """The code of the région a département belongs to, None for an unknown code."""
    departement = departements().get(departement_code)
    return departement.region if departement else None
