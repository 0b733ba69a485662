"""A news item: Markdown rendered once at publication, optionally tied to a theme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin
from forum.discussions.models import Theme
from forum.extensions import db


class News(TimestampMixin, db.Model):
    __tablename__ = "news"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    slug: Mapped[str] = mapped_column(String(160), nullable=False, default="")
    body_source: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    render_version: Mapped[int] = mapped_column(Integer, nullable=False)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)

    theme: Mapped[Theme | None] = relationship()
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<News {self.id} {self.title!r}>"
