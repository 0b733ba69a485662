"""Who may do what: the one place where the forum answers that question.

``can(user, Action.POST_EDIT, post)`` answers; ``ensure(...)`` aborts with 403
(404 where even knowing the object exists is refused); templates call the
same ``can`` through a Jinja global, so pages show exactly the buttons the
server allows. Each rule is one small function of (user, object). The
anonymous visitor is a null object with no role, so rules never test for None.

This module holds the actions, the shared predicates, ``can``/``ensure`` and the
visibility clauses; each domain's rules live in a module of their own
(``discussions``, ``site``, ``messages``, ``directory``, ``debate``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from flask import abort, current_app
from sqlalchemy import Select, false, or_, select

from forum.accounts.models import Role
from forum.db import utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.moderation.models import ThemeModerator
from forum.moderation.notices import sanction_notice
from forum.news.models import News
from forum.seminars.models import Seminar, SeminarStatus


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
    NEWS_PUBLISH = "news:publish"
    POST_REPORT = "post:report"
    POST_HIDE = "post:hide"
    POST_RESTORE = "post:restore"
    POST_READ_HIDDEN = "post:read-hidden"
    POST_APPROVE = "post:approve"
    POST_SPLIT = "post:split"
    THREAD_LOCK = "thread:lock"
    THREAD_PIN = "thread:pin"
    THREAD_MOVE = "thread:move"
    THREAD_MERGE = "thread:merge"
    USER_REPORT = "user:report"
    USER_SANCTION = "user:sanction"
    USER_LIFT = "user:lift"
    USER_HISTORY = "user:history"
    MODERATION_QUEUE = "moderation:queue"
    MODERATION_LOG = "moderation:log"
    WATCHED_WORDS = "moderation:watched-words"
    THREAD_WATCH = "thread:watch"
    THEME_WATCH = "theme:watch"
    ACCOUNT_EXPORT = "account:export"
    ACCOUNT_ERASE = "account:erase"
    USER_ERASE = "user:erase"
    CONVERSATION_START = "conversation:start"
    CONVERSATION_VIEW = "conversation:view"
    CONVERSATION_REPLY = "conversation:reply"
    CONVERSATION_INVITE = "conversation:invite"
    CONVERSATION_LEAVE = "conversation:leave"
    MESSAGE_EDIT = "message:edit"
    MESSAGE_DELETE = "message:delete"
    MESSAGE_REPORT = "message:report"
    MESSAGE_REVIEW = "message:review"
    USER_BLOCK = "user:block"
    ORGANISATION_CREATE = "organisation:create"
    ORGANISATION_EDIT = "organisation:edit"
    ORGANISATION_JOIN = "organisation:join"
    ORGANISATION_MEMBERS = "organisation:members"
    ORGANISATION_VERIFY = "organisation:verify"
    ORGANISATION_MERGE = "organisation:merge"
    ORGANISATION_CONTACT = "organisation:contact"
    OFFER_CREATE = "offer:create"
    OFFER_EDIT = "offer:edit"
    OFFER_CLOSE = "offer:close"
    OFFER_FOLLOW = "offer:follow"
    OFFER_CONTACT = "offer:contact"
    CONTACT_VIEW = "contact:view"
    CONTACT_ANSWER = "contact:answer"
    CONTACT_ASK_MEDIATION = "contact:ask-mediation"
    CONTACT_TAKE = "contact:take"
    CONTACT_CLOSE = "contact:close"
    MEDIATION_QUEUE = "mediation:queue"
    MEDIATOR_SET = "mediator:set"
    CONTACT_REPORT = "contact:report"
    POST_REACT = "post:react"
    POLL_CREATE = "poll:create"
    POLL_VOTE = "poll:vote"
    POLL_CLOSE = "poll:close"
    POLL_EXPORT = "poll:export"
    SYNTHESIS_EDIT = "synthesis:edit"
    SYNTHESIS_VIEW = "synthesis:view"
    SYNTHESIS_APPROVE = "synthesis:approve"
    SYNTHESIS_PUBLISH = "synthesis:publish"


Rule = Callable[[Any, Any], bool]
_RULES: dict[Action, Rule] = {}


def rule(action: Action) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES[action] = fn
        return fn

    return register


def _member(user) -> bool:
    """Logged in and not suspended: a suspended account has no rights left."""
    return bool(user.is_authenticated) and not user.is_suspended


def _writer(user) -> bool:
    """May write: a member who is not silenced and whose address is verified (or any
    such member when no mail server is set)."""
    return _member(user) and not user.is_silenced and _verified(user)


def moderation_scope(user) -> frozenset[int] | None:
    """The theme ids ``user`` moderates: None for every theme, empty for none.

    Admins and moderators without ``theme_moderators`` rows moderate everywhere. The
    answer is kept on the user object: one query per request, for moderators only.
    """
    if not _member(user) or user.role not in (Role.MODERATOR, Role.ADMIN):
        return frozenset()
    if user.role == Role.ADMIN:
        return None
    cached = user.__dict__.get("_moderation_scope", False)
    if cached is False:
        ids = db.session.execute(
            select(ThemeModerator.theme_id).where(ThemeModerator.user_id == user.id)
        ).scalars()
        cached = frozenset(ids) or None
        user.__dict__["_moderation_scope"] = cached
    return cached


def _moderator(user) -> bool:
    """Moderates at least one theme (the queue, the log)."""
    return moderation_scope(user) != frozenset()


def _global_moderator(user) -> bool:
    return (
        _member(user)
        and user.role in (Role.MODERATOR, Role.ADMIN)
        and (moderation_scope(user) is None)
    )


def _moderates(user, theme_id: int) -> bool:
    scope = moderation_scope(user)
    return scope is None or theme_id in scope


def _over(user, target) -> bool:
    """Whether ``user`` may act on ``target`` (a user): nobody but an admin acts on an admin."""
    return target.role != Role.ADMIN or _admin(user)


def _admin(user) -> bool:
    return _member(user) and user.role == Role.ADMIN


def _verified(user) -> bool:
    """The address is verified, or no mail server is set (nothing to verify with)."""
    return user.email_verified_at is not None or not current_app.config.get("FORUM_MAIL_SERVER")


def _owns(user, post) -> bool:
    return _member(user) and post.author_id == user.id


def _organiser(user) -> bool:
    return _admin(user) or bool(getattr(user, "is_organiser", False))


def can(user, action: Action | str, obj: Any = None) -> bool:
    """Whether ``user`` (a User or the anonymous visitor) may do ``action`` to ``obj``."""
    return _RULES[Action(action)](user, obj)


#: Actions a silenced member is refused with the reason and the end of the silence.
_WRITING = {Action.THREAD_CREATE, Action.POST_REPLY, Action.POST_REPORT, Action.USER_REPORT}
_WRITING |= {
    Action.ORGANISATION_CREATE,
    Action.ORGANISATION_JOIN,
    Action.ORGANISATION_CONTACT,
    Action.OFFER_CREATE,
    Action.OFFER_CONTACT,
}
_WRITING |= {Action.POST_REACT, Action.POLL_VOTE}


def ensure(user, action: Action | str, obj: Any = None) -> None:
    """Abort with 403 unless ``can(user, action, obj)``.

    A silenced member trying to write gets the reason and the end date of the silence.
    """
    if can(user, action, obj):
        return
    if Action(action) in _WRITING and getattr(user, "is_silenced", False):
        abort(403, description=sanction_notice(user))
    abort(403)


def _theme_clause(column, viewer):
    scope = moderation_scope(viewer)
    if scope is None:
        return None
    return column.in_(scope) if scope else false()


def visible_threads(stmt: Select, viewer) -> Select:
    """Filter a select of threads down to what ``viewer`` may read.

    Every listing (theme pages, profile, feeds, search, API) goes through this,
    so a list never shows what a single check would refuse: merged threads (their
    posts live in the target) and hidden threads, except for the moderators of
    their theme and their author.
    """
    stmt = stmt.where(Thread.merged_into_id.is_(None))
    moderated = _theme_clause(Thread.theme_id, viewer)
    if moderated is None:
        return stmt
    allowed = [Thread.hidden_at.is_(None), moderated]
    if viewer.is_authenticated:
        allowed.append(Thread.author_id == viewer.id)
    return stmt.where(or_(*allowed))


def visible_posts(stmt: Select, viewer) -> Select:
    """Filter a select of posts down to those ``viewer`` may read in listings.

    Deleted posts never appear; hidden and pending ones only for the moderators of
    their theme, so feeds, search, profiles and quotes never leak them.
    """
    stmt = stmt.where(Post.deleted_at.is_(None))
    scope = moderation_scope(viewer)
    if scope is None:
        return stmt
    visible = Post.hidden_at.is_(None) & Post.pending_at.is_(None)
    if not scope:
        return stmt.where(visible)
    in_scope = Post.thread_id.in_(select(Thread.id).where(Thread.theme_id.in_(scope)))
    return stmt.where(or_(visible, in_scope))


def visible_news(stmt: Select, viewer) -> Select:
    """Filter a select of news down to those published (for everyone, admins included)."""
    return stmt.where(News.published_at <= utcnow())


def visible_seminars(stmt: Select, viewer) -> Select:
    """Filter a select involving seminars (or their sessions, joined) to what ``viewer`` may see.

    The listing form of ``seminar:view``: drafts only for organisers; published and
    cancelled seminars for everyone. Seminar pages, feeds and search all go through it.
    """
    if _organiser(viewer):
        return stmt
    return stmt.where(Seminar.status != SeminarStatus.DRAFT.value)


def ensure_found(user, action: Action | str, obj: Any = None) -> None:
    """Abort with 404 unless ``can(user, action, obj)``: for objects whose very existence
    is private (a conversation is known to its participants only)."""
    if not can(user, action, obj):
        abort(404)


# Each domain's rules register themselves when their module is imported; the names
# other modules use are re-exported here.
from forum.permissions import debate, directory, discussions, messages, site  # noqa: E402, F401
from forum.permissions.directory import memberships as memberships  # noqa: E402
from forum.permissions.discussions import ThreadRights as ThreadRights  # noqa: E402
from forum.permissions.messages import ConversationRights as ConversationRights  # noqa: E402
