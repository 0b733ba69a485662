"""Reactions to posts, polls and their votes, a thread's synthesis and its approvals.

A reply's *position* (pour, contre, nuance, question) is a column of the post
itself (``posts.position``), relative to the post it answers: the thread page
reads it with the tree, at no extra cost.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum import content
from forum.accounts.models import User
from forum.db import TimestampMixin, utcnow
from forum.discussions.models import Thread
from forum.extensions import db


class Position(StrEnum):
    POUR = "pour"
    CONTRE = "contre"
    NUANCE = "nuance"
    QUESTION = "question"


POSITION_LABELS = {
    Position.POUR: _l("pour"),
    Position.CONTRE: _l("contre"),
    Position.NUANCE: _l("nuance"),
    Position.QUESTION: _l("question"),
}


#: The same, capitalised, on a post's badge.
BADGE_LABELS = {
    Position.POUR: _l("Pour"),
    Position.CONTRE: _l("Contre"),
    Position.NUANCE: _l("Nuance"),
    Position.QUESTION: _l("Question"),
}


class ReactionKind(StrEnum):
    D_ACCORD = "d_accord"
    MERCI = "merci"
    BIEN_VU = "bien_vu"


REACTION_LABELS = {
    ReactionKind.D_ACCORD: _l("d'accord"),
    ReactionKind.MERCI: _l("merci"),
    ReactionKind.BIEN_VU: _l("bien vu"),
}


class Reaction(TimestampMixin, db.Model):
    """One member's reaction of one kind to one post; clicking again takes it back."""

    __tablename__ = "reactions"
    __table_args__ = (
        CheckConstraint("kind IN ('d_accord', 'merci', 'bien_vu')", name="kind"),
        Index("ix_reactions_user_id", "user_id"),
    )

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)

    user: Mapped[User] = relationship()


class Results(StrEnum):
    """When a poll's results are shown to members who may vote."""

    ALWAYS = "always"
    AFTER_VOTE = "after_vote"
    AFTER_CLOSE = "after_close"


RESULTS_LABELS = {
    Results.ALWAYS: _l("toujours"),
    Results.AFTER_VOTE: _l("après avoir voté"),
    Results.AFTER_CLOSE: _l("après la clôture"),
}


class Poll(TimestampMixin, db.Model):
    __tablename__ = "polls"
    __table_args__ = (
        CheckConstraint("results IN ('always', 'after_vote', 'after_close')", name="results"),
        Index("ix_polls_thread_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    question: Mapped[str] = mapped_column(String(300), nullable=False)
    multiple: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    results: Mapped[str] = mapped_column(String(12), nullable=False, default=Results.ALWAYS)
    #: Closes by itself at this date (read time decides: no job needed).
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Closed by hand by its author or a moderator.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    thread: Mapped[Thread] = relationship(innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    options: Mapped[list[PollOption]] = relationship(
        order_by="PollOption.rank", back_populates="poll"
    )

    def is_closed(self, now: datetime | None = None) -> bool:
        if self.closed_at is not None:
            return True
        return self.closes_at is not None and self.closes_at <= (now or utcnow())

    @property
    def closed(self) -> bool:
        return self.is_closed()


class PollOption(db.Model):
    __tablename__ = "poll_options"
    __table_args__ = (Index("ix_poll_options_poll_id", "poll_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVoter(db.Model):
    """A member who voted in a poll: one row each, whatever the number of options chosen.

    Its primary key makes "one vote per member" exact: a vote first writes this row
    (insert or update), which serialises one member's concurrent votes on it.
    """

    __tablename__ = "poll_voters"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    voted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class PollVote(db.Model):
    """An option chosen by a voter (one row; several for a multiple-choice poll)."""

    __tablename__ = "poll_votes"
    __table_args__ = (Index("ix_poll_votes_option_id", "option_id"),)

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id"), primary_key=True)


#: The four sections of a synthesis, in their order.
SYNTHESIS_SECTIONS = ("consensus", "disagreements", "questions", "proposals")
#: A citation as ``Synthesis.body_html`` keeps it, filled in for each reader.
CITATION_MARKER_RE = re.compile(r"⟦cite:(\d{1,10})⟧")


def synthesis_text(body_html: str) -> str:
    """A synthesis's text (its stored ``body_html``) without its citations: search, feeds."""
    stored = json.loads(body_html or "{}")
    html = " ".join(
        CITATION_MARKER_RE.sub(" ", stored.get(name, "")) for name in SYNTHESIS_SECTIONS
    )
    return content.plain_text(html, limit=1_000_000)


class Synthesis(TimestampMixin, db.Model):
    """A thread's synthesis: four Markdown sections whose points cite the thread's posts.

    ``body_html`` is rendered once at write time; each citation is left in it as a
    marker (``<forum-cite data-post="123">``) that the page fills in for its reader,
    so a hidden or deleted post is never quoted to someone who may not read it.
    """

    __tablename__ = "syntheses"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), nullable=False, unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    consensus: Mapped[str] = mapped_column(Text, nullable=False, default="")
    disagreements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    questions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    proposals: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    render_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    edit_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    thread: Mapped[Thread] = relationship(innerjoin=True)
    author: Mapped[User] = relationship()

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class SynthesisRevision(db.Model):
    """The four sections a synthesis had before an edit."""

    __tablename__ = "synthesis_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    synthesis_id: Mapped[int] = mapped_column(
        ForeignKey("syntheses.id"), nullable=False, index=True
    )
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    consensus: Mapped[str] = mapped_column(Text, nullable=False)
    disagreements: Mapped[str] = mapped_column(Text, nullable=False)
    questions: Mapped[str] = mapped_column(Text, nullable=False)
    proposals: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    editor: Mapped[User] = relationship()


class SynthesisApproval(TimestampMixin, db.Model):
    """A participant approved the draft (the approval round); an edit starts a new round."""

    __tablename__ = "synthesis_approvals"

    synthesis_id: Mapped[int] = mapped_column(ForeignKey("syntheses.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    user: Mapped[User] = relationship()
