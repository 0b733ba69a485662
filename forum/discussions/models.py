"""Themes, threads, posts (a tree per thread) and post revisions.

A thread's posts form a tree: ``parent_id`` names the post replied to, and
``path`` is the materialised path, one fixed-width segment per level
(:data:`SEGMENT_WIDTH` digits, the rank among siblings). Ordering a thread's
posts by ``path`` gives them depth-first, each reply after the post it answers
and before that post's next sibling; a branch is the range of paths that start
with its root's path. Both come back in one query on ``(thread_id, path)``.
The opening post has the empty path and depth 0.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin
from forum.extensions import db

#: Digits per level of ``Post.path``: up to 999,999 direct replies to one post.
SEGMENT_WIDTH = 6
#: Deepest reply accepted; deeper branches are read on branch pages anyway.
MAX_STORED_DEPTH = 150


def path_segment(rank: int) -> str:
    return f"{rank:0{SEGMENT_WIDTH}d}"


def branch_upper_bound(path: str) -> str:
    """The smallest path greater than every path of the branch rooted at ``path``."""
    return path + ":"  # ':' is the byte right after '9'; paths compare byte-wise


class Theme(TimestampMixin, db.Model):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    thread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    post_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_post_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Thread authors may draft their thread's synthesis (moderators always may).
    synthesis_by_authors: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"


class Thread(TimestampMixin, db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        # The theme page: pinned first, then by last activity.
        Index("ix_threads_theme_listing", "theme_id", "pinned", "last_post_at"),
        # The same for readers who see no hidden thread: a deep page's offset is counted
        # on this index alone.
        Index(
            "ix_threads_theme_visible",
            "theme_id",
            "pinned",
            "last_post_at",
            sqlite_where=text("merged_into_id IS NULL AND hidden_at IS NULL"),
            postgresql_where=text("merged_into_id IS NULL AND hidden_at IS NULL"),
        ),
        Index("ix_threads_last_post_at", "last_post_at"),
        # Feeds: the newest threads, everywhere and per theme.
        Index("ix_threads_created_at", "created_at"),
        Index("ix_threads_theme_created", "theme_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    slug: Mapped[str] = mapped_column(String(160), nullable=False, default="")
    #: Replies, the opening post excluded; deleted ones included (they keep a placeholder).
    reply_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_post_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_post_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: The moderator's reason, shown to readers with the lock ("" when none was given).
    lock_reason: Mapped[str] = mapped_column(
        String(300), nullable=False, default="", server_default=""
    )
    #: Set while the opening post is hidden or awaits approval: out of every listing.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Set when a moderator merged this thread into another: its URL redirects there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    #: The thread a moderator split this one from (a branch became this thread).
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"), index=True)

    theme: Mapped[Theme] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    last_post_author: Mapped[User | None] = relationship(foreign_keys=[last_post_author_id])

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.title!r}>"


class Post(TimestampMixin, db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("thread_id", "path", name="uq_posts_thread_path"),
        Index("ix_posts_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: Compared byte-wise on PostgreSQL too (collation "C"), like SQLite does.
    path: Mapped[str] = mapped_column(
        String(1000).with_variant(String(1000, collation="C"), "postgresql"), nullable=False
    )
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Direct replies ever made to this post; the next reply's path segment.
    child_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    body_source: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    render_version: Mapped[int] = mapped_column(Integer, nullable=False)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    edit_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Hidden by a moderator (or by reports): a placeholder for others, nothing destroyed.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: Set while the post waits for a moderator's approval (pre-moderation, watched words).
    pending_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Distinct members with an open report on this post; moved in SQL under the row lock.
    open_report_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: A reply's stance towards the post it answers (forum.debate.models.Position), or None.
    position: Mapped[str | None] = mapped_column(String(10))
    #: Who reacted to the post and how, as its thread page shows it, kept by
    #: forum.debate.services.refresh_reaction_summaries: the counts by kind, then the
    #: names ("d_accord=2;merci=1|d_accord=alice,Zoe;merci=chloe", forum.debate.summary);
    #: None while nobody has reacted.
    reaction_summary: Mapped[str | None] = mapped_column(Text)

    #: Every post has a thread: joined loads use an inner join. (With an outer one, SQLite
    #: materialises "threads JOIN themes" — the theme is always joined — scanning every thread.)
    thread: Mapped[Thread] = relationship(innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_pending(self) -> bool:
        return self.pending_at is not None

    @property
    def is_opening(self) -> bool:
        return self.parent_id is None

    def __repr__(self) -> str:
        return f"<Post {self.id} of thread {self.thread_id} at {self.path!r}>"


class PostRevision(db.Model):
    """A body a post had before an edit: one row per edit, never changed."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), nullable=False, index=True)
    #: Who made the edit that replaced this body.
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    body_source: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    #: When this body was written (the post's creation or its previous edit).
    written_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: When the edit that replaced it was made.
    replaced_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    editor: Mapped[User] = relationship()
