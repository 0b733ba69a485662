"""One helper for every paged list: parse ``?page=N`` safely, slice a select."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from forum.extensions import db

#: Page numbers beyond this are read as the last page (no huge OFFSETs from a URL).
MAX_PAGE = 100_000


def parse_page(raw: str | None) -> int:
    """A page number from the query string: anything bad reads as page 1."""
    try:
        page = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def clamp(page: int, total: int, per_page: int) -> int:
    """A page number past the end reads as the last page."""
    return min(page, max(1, -(-total // per_page)))


def paginate(
    stmt: Select, page: int, per_page: int, total: int | None = None, keys: Select | None = None
) -> Page:
    """Run ``stmt`` for one page; ``total`` may be given when a counter already holds it.

    ``keys``, the primary keys of the same rows in the same order, lets a deep page skip
    its OFFSET on an index alone: the page's keys are found first, then only their rows
    are loaded (with their joins). Still one query.
    """
    if total is None:
        total = db.session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    page = clamp(page, total, per_page)
    offset = (page - 1) * per_page
    if keys is None:
        stmt = stmt.limit(per_page).offset(offset)
    else:
        window = keys.limit(per_page).offset(offset)
        stmt = stmt.where(keys.selected_columns[0].in_(window.scalar_subquery()))
    items = db.session.execute(stmt).scalars()
    return Page(items=list(items.unique()), number=page, per_page=per_page, total=total)
