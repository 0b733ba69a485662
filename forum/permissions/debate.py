"""Structured debate: reactions, polls, synthesis."""

from __future__ import annotations

from sqlalchemy import select

from forum.discussions.models import Post
from forum.extensions import db
from forum.permissions import (
    Action,
    _member,
    _moderates,
    _owns,
    _writer,
    rule,
)
from forum.permissions.discussions import _owns_thread, _post_reply, _reactable, _thread_view


@rule(Action.POST_REACT)
def _post_react(user, post) -> bool:
    """Members who may write react to others' visible posts (never to their own)."""
    return (
        _writer(user)
        and not _owns(user, post)
        and not (post.is_deleted or post.is_hidden or post.is_pending)
        and _reactable(post.thread)
    )


@rule(Action.POLL_CREATE)
def _poll_create(user, thread) -> bool:
    """The thread's author (while they may reply in it) or a moderator of its theme."""
    if not _reactable(thread) or not _thread_view(user, thread):
        return False
    if _moderates(user, thread.theme_id):
        return _member(user)
    return _owns_thread(user, thread) and _post_reply(user, thread)


@rule(Action.POLL_VOTE)
def _poll_vote(user, poll) -> bool:
    return (
        _writer(user)
        and not poll.is_closed()
        and _reactable(poll.thread)
        and _thread_view(user, poll.thread)
    )


def _runs_poll(user, poll) -> bool:
    return _member(user) and (poll.author_id == user.id or _moderates(user, poll.thread.theme_id))


@rule(Action.POLL_CLOSE)
def _poll_close(user, poll) -> bool:
    """Close by hand: the poll's author or a moderator of the theme, while it is open."""
    return not poll.is_closed() and _runs_poll(user, poll)


@rule(Action.POLL_EXPORT)
def _poll_export(user, poll) -> bool:
    """The results as CSV: the poll's author and the theme's moderators."""
    return _runs_poll(user, poll)


@rule(Action.SYNTHESIS_EDIT)
def _synthesis_edit(user, thread) -> bool:
    """A moderator of the theme; the thread's author too where the theme allows it."""
    if thread.merged_into_id or not _member(user):
        return False
    if _moderates(user, thread.theme_id):
        return True
    return (
        thread.theme.synthesis_by_authors
        and _owns_thread(user, thread)
        and _writer(user)
        and not thread.theme.is_archived
    )


def _participates(user, thread) -> bool:
    """Wrote a visible post in the thread (one query, for members only)."""
    if not _member(user):
        return False
    return (
        db.session.execute(
            select(Post.id)
            .where(
                Post.thread_id == thread.id,
                Post.author_id == user.id,
                Post.deleted_at.is_(None),
                Post.hidden_at.is_(None),
                Post.pending_at.is_(None),
            )
            .limit(1)
        ).scalar()
        is not None
    )


@rule(Action.SYNTHESIS_VIEW)
def _synthesis_view(user, synthesis) -> bool:
    """Published: every reader of the thread. A draft: its editors and the participants."""
    if not _thread_view(user, synthesis.thread):
        return False
    if synthesis.is_published or _synthesis_edit(user, synthesis.thread):
        return True
    return _participates(user, synthesis.thread)


@rule(Action.SYNTHESIS_APPROVE)
def _synthesis_approve(user, synthesis) -> bool:
    """The approval round: participants of the thread, on a draft written by someone else."""
    return (
        not synthesis.is_published
        and _writer(user)
        and synthesis.author_id != user.id
        and _thread_view(user, synthesis.thread)
        and _participates(user, synthesis.thread)
    )


@rule(Action.SYNTHESIS_PUBLISH)
def _synthesis_publish(user, synthesis) -> bool:
    """Its author (while they may still edit it) or a moderator of the theme."""
    thread = synthesis.thread
    if not _synthesis_edit(user, thread):
        return False
    return synthesis.author_id == user.id or _moderates(user, thread.theme_id)
