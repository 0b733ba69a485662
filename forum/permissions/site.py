"""Members, moderation pages, administration, seminars, news and watches."""

from __future__ import annotations

from forum.accounts.models import Role
from forum.permissions import (
    Action,
    _admin,
    _global_moderator,
    _member,
    _moderator,
    _organiser,
    _over,
    _writer,
    rule,
)
from forum.permissions.discussions import _thread_view


@rule(Action.USER_REPORT)
def _user_report(user, target) -> bool:
    return _writer(user) and target.id != user.id


@rule(Action.USER_SANCTION)
def _user_sanction(user, target) -> bool:
    """Global moderators and admins sanction anyone but themselves and admins."""
    return _global_moderator(user) and target.id != user.id and _over(user, target)


@rule(Action.USER_LIFT)
def _user_lift(user, target) -> bool:
    """The same people lift sanctions; nobody lifts their own."""
    return _user_sanction(user, target)


@rule(Action.USER_HISTORY)
def _user_history(user, target=None) -> bool:
    """A user's sanctions, hidden posts, reports and private notes."""
    return _moderator(user)


@rule(Action.MODERATION_QUEUE)
def _moderation_queue(user, obj=None) -> bool:
    return _moderator(user)


@rule(Action.MODERATION_LOG)
def _moderation_log(user, obj=None) -> bool:
    return _moderator(user)


@rule(Action.WATCHED_WORDS)
def _watched_words(user, obj=None) -> bool:
    return _global_moderator(user)


@rule(Action.THEME_MANAGE)
def _theme_manage(user, theme=None) -> bool:
    return _admin(user)


@rule(Action.ADMIN_ACCESS)
def _admin_access(user, obj=None) -> bool:
    return _admin(user)


@rule(Action.USER_SET_ROLE)
def _user_set_role(user, target=None) -> bool:
    return _admin(user)


@rule(Action.ACCOUNT_EXPORT)
def _account_export(user, target) -> bool:
    """Anyone logged in may have their own data, sanctioned or not."""
    return bool(user.is_authenticated) and target.id == user.id


@rule(Action.ACCOUNT_ERASE)
def _account_erase(user, target) -> bool:
    """Anyone logged in may erase their own account, sanctioned or not."""
    return bool(user.is_authenticated) and target.id == user.id and target.erased_at is None


@rule(Action.USER_ERASE)
def _user_erase(user, target) -> bool:
    """Admins erase other accounts (not another admin's: demote first)."""
    return _admin(user) and target.id != user.id and target.role != Role.ADMIN


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
        _writer(user)
        and session.seminar.status == "published"
        and not session.has_ended
        and (session.theme is None or not session.theme.is_archived)
    )


@rule(Action.SESSION_FOLLOW_UP)
def _session_follow_up(user, session) -> bool:
    """Organisers open follow-up threads, link threads and publish minutes."""
    return _organiser(user)


@rule(Action.NEWS_PUBLISH)
def _news_publish(user, obj=None) -> bool:
    return _admin(user)


@rule(Action.THREAD_WATCH)
def _thread_watch(user, thread) -> bool:
    return _member(user) and _thread_view(user, thread)


@rule(Action.THEME_WATCH)
def _theme_watch(user, theme) -> bool:
    return _member(user)
