"""Who may do what: the one place where the forum answers that question.

``can(user, Action.POST_EDIT, post)`` answers; ``ensure(...)`` aborts with 403
(404 where even knowing the object exists is refused); templates call the
same ``can`` through a Jinja global, so pages show exactly the buttons the
server allows. Each rule is one small function of (user, object). The
anonymous visitor is a null object with no role, so rules never test for None.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from flask import abort, current_app
from sqlalchemy import Select

from forum.accounts.models import Role
from forum.discussions.models import Post


class Action(StrEnum):
    THREAD_VIEW = "thread:view"
    THREAD_CREATE = "thread:create"
    POST_REPLY = "post:reply"
    POST_QUOTE = "post:quote"
    POST_EDIT = "post:edit"
    POST_DELETE = "post:delete"
    POST_HISTORY = "post:history"
    THEME_MANAGE = "theme:manage"
    ADMIN_ACCESS = "admin:access"
    USER_SET_ROLE = "user:set-role"
    SEMINAR_VIEW = "seminar:view"
    SEMINAR_MANAGE = "seminar:manage"
    SEMINAR_REGISTER = "seminar:register"
    SESSION_PREPARE = "session:prepare"
    SESSION_FOLLOW_UP = "session:follow-up"
    THREAD_WATCH = "thread:watch"
    THEME_WATCH = "theme:watch"


Rule = Callable[[Any, Any], bool]
_RULES: dict[Action, Rule] = {}


def rule(action: Action) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES[action] = fn
        return fn

    return register


def _member(user) -> bool:
    return bool(user.is_authenticated)


def _moderator(user) -> bool:
    return user.role in (Role.MODERATOR, Role.ADMIN)


def _admin(user) -> bool:
    return user.role == Role.ADMIN


def _may_write(user) -> bool:
    """A member whose address is verified, or any member when no mail server is set."""
    if not _member(user):
        return False
    return user.email_verified_at is not None or not current_app.config.get("FORUM_MAIL_SERVER")


def _owns(user, post) -> bool:
    return _member(user) and post.author_id == user.id


@rule(Action.THREAD_VIEW)
def _thread_view(user, thread) -> bool:
    return True


@rule(Action.THREAD_CREATE)
def _thread_create(user, theme) -> bool:
    return _may_write(user) and not theme.is_archived


@rule(Action.POST_REPLY)
def _post_reply(user, thread) -> bool:
    if not _may_write(user) or thread.theme.is_archived:
        return False
    return not thread.locked or _moderator(user)


@rule(Action.POST_QUOTE)
def _post_quote(user, post) -> bool:
    return not post.is_deleted and _post_reply(user, post.thread)


def _open_for_writing(thread) -> bool:
    """Neither locked nor in an archived theme: members may still change what they wrote."""
    return not thread.locked and not thread.theme.is_archived


@rule(Action.POST_EDIT)
def _post_edit(user, post) -> bool:
    if post.is_deleted:
        return False
    if _moderator(user):
        return True
    return _owns(user, post) and _open_for_writing(post.thread)


@rule(Action.POST_DELETE)
def _post_delete(user, post) -> bool:
    if post.is_deleted:
        return False
    if _moderator(user):
        return True
    return _owns(user, post) and _open_for_writing(post.thread)


@rule(Action.POST_HISTORY)
def _post_history(user, post) -> bool:
    return post.edit_count > 0 and (_owns(user, post) or _moderator(user))


@rule(Action.THEME_MANAGE)
def _theme_manage(user, theme=None) -> bool:
    return _admin(user)


@rule(Action.ADMIN_ACCESS)
def _admin_access(user, obj=None) -> bool:
    return _admin(user)


@rule(Action.USER_SET_ROLE)
def _user_set_role(user, target=None) -> bool:
    return _admin(user)


def _organiser(user) -> bool:
    return _admin(user) or bool(getattr(user, "is_organiser", False))


@rule(Action.SEMINAR_VIEW)
def _seminar_view(user, seminar) -> bool:
    return seminar.status != "draft" or _organiser(user)


@rule(Action.SEMINAR_MANAGE)
def _seminar_manage(user, seminar=None) -> bool:
    """Create seminars (``seminar`` None), edit them, their sessions and registrations."""
    return _organiser(user)


@rule(Action.SEMINAR_REGISTER)
def _seminar_register(user, seminar) -> bool:
    """Whether the register button shows; the service says why when it refuses."""
    return _member(user) and seminar.status == "published" and not seminar.is_past


@rule(Action.SESSION_PREPARE)
def _session_prepare(user, session) -> bool:
    """Members open a préparation thread from a session still to come."""
    return (
        _may_write(user)
        and session.seminar.status == "published"
        and not session.has_ended
        and (session.theme is None or not session.theme.is_archived)
    )


@rule(Action.SESSION_FOLLOW_UP)
def _session_follow_up(user, session) -> bool:
    """Organisers open follow-up threads, link threads and publish minutes."""
    return _organiser(user)


@rule(Action.THREAD_WATCH)
def _thread_watch(user, thread) -> bool:
    return _member(user) and _thread_view(user, thread)


@rule(Action.THEME_WATCH)
def _theme_watch(user, theme) -> bool:
    return _member(user)


def can(user, action: Action | str, obj: Any = None) -> bool:
    """Whether ``user`` (a User or the anonymous visitor) may do ``action`` to ``obj``."""
    return _RULES[Action(action)](user, obj)


def ensure(user, action: Action | str, obj: Any = None) -> None:
    """Abort with 403 unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        abort(403)


def visible_threads(stmt: Select, viewer) -> Select:
    """Filter a select of threads down to what ``viewer`` may read.

    Every listing (theme pages, profile, feeds, search, API) goes through this,
    so a list never shows what a single check would refuse. Every thread is
    public for now; moderation adds hidden threads here.
    """
    return stmt


def visible_posts(stmt: Select, viewer) -> Select:
    """Filter a select of posts down to those ``viewer`` may read in listings."""
    return stmt.where(Post.deleted_at.is_(None))
