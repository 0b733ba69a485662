"""Reads of news shared by pages and feeds."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from forum.news.models import News
from forum.permissions import visible_news


def published(viewer) -> Select:
    """Published news, newest first, with their author and theme."""
    return (
        visible_news(select(News), viewer)
        .options(joinedload(News.author), joinedload(News.theme))
        .order_by(News.published_at.desc(), News.id.desc())
    )
