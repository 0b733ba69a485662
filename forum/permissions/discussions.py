"""Threads and posts: reading, writing, editing, and their moderation."""

from __future__ import annotations

from forum.accounts.models import Role
from forum.permissions import (
    Action,
    _admin,
    _member,
    _moderates,
    _over,
    _owns,
    _writer,
    rule,
)


@rule(Action.THREAD_VIEW)
def _thread_view(user, thread) -> bool:
    """Hidden threads (opening post hidden or pending) stay readable by author and moderators."""
    if thread.hidden_at is None:
        return True
    return _owns_thread(user, thread) or _moderates(user, thread.theme_id)


def _owns_thread(user, thread) -> bool:
    return bool(user.is_authenticated) and thread.author_id == user.id


@rule(Action.THREAD_CREATE)
def _thread_create(user, theme) -> bool:
    return _writer(user) and not theme.is_archived


@rule(Action.POST_REPLY)
def _post_reply(user, thread) -> bool:
    if not _writer(user) or thread.theme.is_archived or thread.merged_into_id:
        return False
    return not thread.locked or _moderates(user, thread.theme_id)


def _readable(user, post) -> bool:
    """Whether the body of ``post`` may be shown to ``user`` (hidden and pending posts)."""
    if not (post.is_hidden or post.is_pending):
        return True
    return _owns(user, post) or _moderates(user, post.thread.theme_id)


@rule(Action.POST_QUOTE)
def _post_quote(user, post) -> bool:
    return (
        not post.is_deleted
        and not post.is_hidden
        and not post.is_pending
        and _post_reply(user, post.thread)
    )


@rule(Action.POST_READ_HIDDEN)
def _post_read_hidden(user, post) -> bool:
    """Read a hidden or pending post: its author and the moderators of its theme."""
    return _readable(user, post)


def _open_for_writing(thread) -> bool:
    """Neither locked nor in an archived theme: members may still change what they wrote."""
    return not thread.locked and not thread.theme.is_archived


def _moderates_post(user, post) -> bool:
    """A moderator of the post's theme, and the author is not an admin (unless user is)."""
    return _moderates(user, post.thread.theme_id) and _over(user, post.author)


@rule(Action.POST_EDIT)
def _post_edit(user, post) -> bool:
    if post.is_deleted:
        return False
    if _owns(user, post):
        return _writer(user) and (
            _open_for_writing(post.thread) or _moderates(user, post.thread.theme_id)
        )
    return _moderates_post(user, post)


@rule(Action.POST_DELETE)
def _post_delete(user, post) -> bool:
    if post.is_deleted:
        return False
    if _owns(user, post):
        return _open_for_writing(post.thread) or _moderates(user, post.thread.theme_id)
    return _moderates_post(user, post)


@rule(Action.POST_HISTORY)
def _post_history(user, post) -> bool:
    return post.edit_count > 0 and (_owns(user, post) or _moderates(user, post.thread.theme_id))


@rule(Action.POST_REPORT)
def _post_report(user, post) -> bool:
    """Members report others' visible posts; nobody reports their own."""
    return (
        _writer(user)
        and not _owns(user, post)
        and not post.is_deleted
        and not post.is_hidden
        and not post.is_pending
    )


@rule(Action.POST_HIDE)
def _post_hide(user, post) -> bool:
    return not post.is_deleted and not post.is_hidden and _moderates_post(user, post)


@rule(Action.POST_RESTORE)
def _post_restore(user, post) -> bool:
    return post.is_hidden and _moderates_post(user, post)


@rule(Action.POST_APPROVE)
def _post_approve(user, post) -> bool:
    """Approve or reject a post awaiting approval."""
    return post.is_pending and _moderates(user, post.thread.theme_id)


@rule(Action.POST_SPLIT)
def _post_split(user, post) -> bool:
    """A reply's branch becomes a thread of its own (the opening post cannot be split off)."""
    return not post.is_opening and _moderates(user, post.thread.theme_id)


class ThreadRights:
    """What one viewer may do to each post of one thread, for a page that shows hundreds.

    The post rules above depend on the viewer only through a few facts that are the same
    for every post of the thread: who they are, whether they may write, whether they
    moderate its theme, may reply in it, are an admin; and the thread is open for writing
    or not. Those facts are taken once, from the rule functions themselves; each post is
    then decided by comparing its own attributes (author, deleted, hidden, pending, edits).
    ``rights.post(post)`` is the set of actions ``can(user, action, post)`` allows:
    ``tests/test_thread_rights.py`` checks that they agree for every post action, viewer
    and state of post, thread and theme.
    """

    __slots__ = (
        "admin",
        "moderates",
        "open",
        "reacts",
        "replies",
        "thread_id",
        "user_id",
        "writer",
    )

    def __init__(self, user, thread) -> None:
        self.thread_id = thread.id
        #: The viewer's id when _owns() can be true for them, else None (no author has it).
        self.user_id = user.id if _member(user) else None
        self.writer = _writer(user)
        self.moderates = _moderates(user, thread.theme_id)
        self.admin = _admin(user)
        self.replies = _post_reply(user, thread)
        self.open = _open_for_writing(thread)
        self.reacts = self.writer and _reactable(thread)

    def post(self, post) -> frozenset[Action]:
        """The actions allowed on ``post``, a post of this thread."""
        if post.thread_id != self.thread_id:
            raise ValueError(f"{post!r} is not in thread {self.thread_id}")
        owns = post.author_id == self.user_id
        deleted, hidden, pending = post.is_deleted, post.is_hidden, post.is_pending
        over = self.moderates and (self.admin or post.author.role != Role.ADMIN)  # _moderates_post
        allowed = []
        if not (hidden or pending) or owns or self.moderates:
            allowed.append(Action.POST_READ_HIDDEN)
        if self.replies and not (deleted or hidden or pending):
            allowed.append(Action.POST_QUOTE)
        if not deleted and (self.writer and (self.open or self.moderates) if owns else over):
            allowed.append(Action.POST_EDIT)
        if not deleted and ((self.open or self.moderates) if owns else over):
            allowed.append(Action.POST_DELETE)
        if post.edit_count > 0 and (owns or self.moderates):
            allowed.append(Action.POST_HISTORY)
        if self.writer and not owns and not (deleted or hidden or pending):
            allowed.append(Action.POST_REPORT)
        if over and not (deleted or hidden):
            allowed.append(Action.POST_HIDE)
        if over and hidden:
            allowed.append(Action.POST_RESTORE)
        if self.moderates and pending:
            allowed.append(Action.POST_APPROVE)
        if self.moderates and not post.is_opening:
            allowed.append(Action.POST_SPLIT)
        if self.reacts and not owns and not (deleted or hidden or pending):
            allowed.append(Action.POST_REACT)
        return frozenset(allowed)

    def shows(self, post) -> bool:
        """Whether the page shows ``post`` at all: a pending post exists only for its author
        and the moderators (those who may read it hidden); others see nothing of it, nor
        of its replies."""
        return not post.is_pending or post.author_id == self.user_id or self.moderates


@rule(Action.THREAD_LOCK)
def _thread_lock(user, thread) -> bool:
    """Lock or unlock."""
    return thread.merged_into_id is None and _moderates(user, thread.theme_id)


@rule(Action.THREAD_PIN)
def _thread_pin(user, thread) -> bool:
    """Pin or unpin."""
    return thread.merged_into_id is None and _moderates(user, thread.theme_id)


@rule(Action.THREAD_MOVE)
def _thread_move(user, thread) -> bool:
    """Move to another theme; the moderator must moderate the target too (the service checks)."""
    return thread.merged_into_id is None and _moderates(user, thread.theme_id)


@rule(Action.THREAD_MERGE)
def _thread_merge(user, thread) -> bool:
    """Merge into another thread the moderator also moderates (the service checks)."""
    return thread.merged_into_id is None and _moderates(user, thread.theme_id)


def _reactable(thread) -> bool:
    """Reactions and votes stay possible in a locked thread, not in a merged or archived one."""
    return not thread.merged_into_id and not thread.theme.is_archived
