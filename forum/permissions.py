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
from sqlalchemy import Select, false, or_, select

from forum.accounts.models import Role
from forum.db import utcnow
from forum.directory.models import ContactRequest, Mediator, MemberRole, Membership
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


# -- private conversations ------------------------------------------------------------------
# A conversation exists only for its participants: views refuse the others with 404
# (:func:`ensure_found`), never 403. Rules read ``conversation.participants``, loaded with
# the conversation.

#: A member edits their own message within this many seconds of writing it.
MESSAGE_EDIT_WINDOW_S = 15 * 60


def _participant(user, conversation):
    """The row of ``user`` in ``conversation`` (active or gone), None for anyone else."""
    if not user.is_authenticated:
        return None
    return conversation.participant(user)


def _active_participant(user, conversation) -> bool:
    row = _participant(user, conversation)
    return row is not None and row.left_at is None


@rule(Action.CONVERSATION_START)
def _conversation_start(user, recipient=None) -> bool:
    """Writers start conversations; the service checks blocks and limits per recipient."""
    return _writer(user) and (recipient is None or recipient.id != user.id)


@rule(Action.CONVERSATION_VIEW)
def _conversation_view(user, conversation) -> bool:
    """Participants, present or gone (a leaver reads up to their departure)."""
    return _member(user) and _participant(user, conversation) is not None


@rule(Action.CONVERSATION_REPLY)
def _conversation_reply(user, conversation) -> bool:
    return _writer(user) and _active_participant(user, conversation)


@rule(Action.CONVERSATION_INVITE)
def _conversation_invite(user, conversation) -> bool:
    """The starter, still in the conversation, adds participants."""
    return (
        _conversation_reply(user, conversation)
        and conversation.starter_id == user.id
        and len(conversation.active_participants) < _max_participants()
    )


def _max_participants() -> int:
    from forum.messages.models import MAX_PARTICIPANTS

    return MAX_PARTICIPANTS


@rule(Action.CONVERSATION_LEAVE)
def _conversation_leave(user, conversation) -> bool:
    """Leave (or mute): any participant still there, even silenced."""
    return _member(user) and _active_participant(user, conversation)


def _own_message(user, message) -> bool:
    return (
        _member(user)
        and message.author_id == user.id
        and message.kind == "message"
        and not message.is_deleted
        and _active_participant(user, message.conversation)
    )


@rule(Action.MESSAGE_EDIT)
def _message_edit(user, message) -> bool:
    """Their own message, within 15 minutes, while they may still write."""
    age = (utcnow() - message.created_at).total_seconds()
    return _own_message(user, message) and _writer(user) and age <= MESSAGE_EDIT_WINDOW_S


@rule(Action.MESSAGE_DELETE)
def _message_delete(user, message) -> bool:
    return _own_message(user, message)


@rule(Action.MESSAGE_REPORT)
def _message_report(user, message) -> bool:
    """A participant who can read it reports someone else's message."""
    row = _participant(user, message.conversation)
    return (
        _writer(user)
        and row is not None
        and message.kind == "message"
        and message.author_id != user.id
        and not message.is_deleted
        and not message.is_hidden
        and row.sees(message)
    )


@rule(Action.MESSAGE_REVIEW)
def _message_review(user, message=None) -> bool:
    """Global moderators read a reported message and its context (and nothing else)."""
    return _global_moderator(user)


@rule(Action.USER_BLOCK)
def _user_block(user, target) -> bool:
    """Block (or unblock) anyone but oneself and the moderation team."""
    return _member(user) and target.id != user.id and target.role == Role.MEMBER


# --- The directory: organisations, offers and needs, contact requests, mediation ---------


def memberships(user) -> dict[int, str]:
    """``{organisation id: role}`` of ``user``'s memberships (pending requests included).

    Kept on the user object: one query per request, only on pages that ask.
    """
    if not user.is_authenticated:
        return {}
    cached = user.__dict__.get("_memberships")
    if cached is None:
        rows = db.session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == user.id)
        )
        cached = {org_id: role for org_id, role in rows}
        user.__dict__["_memberships"] = cached
    return cached


def _represents(user, organisation) -> bool:
    return _member(user) and memberships(user).get(organisation.id) == MemberRole.REPRESENTATIVE


def _belongs(user, organisation) -> bool:
    """A representative or a member (not a pending request) of ``organisation``."""
    return _member(user) and memberships(user).get(organisation.id) in (
        MemberRole.REPRESENTATIVE,
        MemberRole.MEMBER,
    )


def is_mediator(user) -> bool:
    """A moderator (or admin) an admin marked as mediator. One query per request, cached."""
    if not _member(user) or user.role not in (Role.MODERATOR, Role.ADMIN):
        return False
    cached = user.__dict__.get("_is_mediator")
    if cached is None:
        cached = db.session.get(Mediator, user.id) is not None
        user.__dict__["_is_mediator"] = cached
    return cached


def _active(organisation) -> bool:
    return organisation.merged_into_id is None


@rule(Action.ORGANISATION_CREATE)
def _organisation_create(user, obj=None) -> bool:
    return _writer(user)


@rule(Action.ORGANISATION_EDIT)
def _organisation_edit(user, organisation) -> bool:
    """Its representatives, and the global moderators (who fix what was reported)."""
    return _active(organisation) and (
        (_writer(user) and _represents(user, organisation)) or _global_moderator(user)
    )


@rule(Action.ORGANISATION_JOIN)
def _organisation_join(user, organisation) -> bool:
    """Ask to join: members who are not in it yet (nor already asked)."""
    return _active(organisation) and _writer(user) and organisation.id not in memberships(user)


@rule(Action.ORGANISATION_MEMBERS)
def _organisation_members(user, organisation) -> bool:
    """Accept or decline join requests, hand the role on, remove members."""
    return _active(organisation) and _member(user) and _represents(user, organisation)


@rule(Action.ORGANISATION_VERIFY)
def _organisation_verify(user, organisation) -> bool:
    return _active(organisation) and _global_moderator(user)


@rule(Action.ORGANISATION_MERGE)
def _organisation_merge(user, organisation) -> bool:
    return _active(organisation) and _global_moderator(user)


def _speaks_for_another(user, organisation) -> bool:
    """Belongs to an organisation, and not only to ``organisation``."""
    return any(
        role in (MemberRole.REPRESENTATIVE, MemberRole.MEMBER) and org_id != organisation.id
        for org_id, role in memberships(user).items()
    )


@rule(Action.ORGANISATION_CONTACT)
def _organisation_contact(user, organisation) -> bool:
    """Ask for a *mise en relation*: a member of another organisation."""
    return _active(organisation) and _writer(user) and _speaks_for_another(user, organisation)


@rule(Action.OFFER_CREATE)
def _offer_create(user, organisation) -> bool:
    return _active(organisation) and _writer(user) and _represents(user, organisation)


@rule(Action.OFFER_EDIT)
def _offer_edit(user, offer) -> bool:
    return offer.status == "open" and (
        (_writer(user) and _represents(user, offer.organisation)) or _global_moderator(user)
    )


@rule(Action.OFFER_CLOSE)
def _offer_close(user, offer) -> bool:
    return _offer_edit(user, offer)


@rule(Action.OFFER_FOLLOW)
def _offer_follow(user, offer) -> bool:
    """Follow new matches of an open offer or need of one's own organisation."""
    return offer.is_open and _member(user) and _represents(user, offer.organisation)


@rule(Action.OFFER_CONTACT)
def _offer_contact(user, offer) -> bool:
    return offer.is_open and _organisation_contact(user, offer.organisation)


def _party(user, request: ContactRequest) -> bool:
    """The requester and the representatives of either organisation."""
    return _member(user) and (
        request.requester_id == user.id
        or _represents(user, request.to_organisation)
        or _represents(user, request.from_organisation)
    )


@rule(Action.CONTACT_VIEW)
def _contact_view(user, request: ContactRequest) -> bool:
    """The parties; the mediator who took it; mediators while it waits in their queue."""
    if _party(user, request):
        return True
    if request.mediator_id is not None:
        return _member(user) and request.mediator_id == user.id and is_mediator(user)
    return request.mediation and request.closed_at is None and is_mediator(user)


@rule(Action.CONTACT_ANSWER)
def _contact_answer(user, request: ContactRequest) -> bool:
    """Accept or decline: the representatives of the organisation asked, within 30 days."""
    return (
        request.status == "pending"
        and utcnow() < request.expires_at
        and _writer(user)
        and _represents(user, request.to_organisation)
    )


@rule(Action.CONTACT_ASK_MEDIATION)
def _contact_ask_mediation(user, request: ContactRequest) -> bool:
    return (
        not request.mediation
        and request.closed_at is None
        and request.status in ("pending", "accepted")
        and _writer(user)
        and _party(user, request)
    )


@rule(Action.CONTACT_TAKE)
def _contact_take(user, request: ContactRequest) -> bool:
    return (
        request.mediation
        and request.mediator_id is None
        and request.closed_at is None
        and is_mediator(user)
        and not _party(user, request)
    )


@rule(Action.CONTACT_CLOSE)
def _contact_close(user, request: ContactRequest) -> bool:
    """Close with an outcome: the mediator who took it."""
    return (
        request.closed_at is None
        and request.mediator_id is not None
        and _member(user)
        and request.mediator_id == user.id
        and is_mediator(user)
    )


@rule(Action.MEDIATION_QUEUE)
def _mediation_queue(user, obj=None) -> bool:
    return is_mediator(user)


@rule(Action.MEDIATOR_SET)
def _mediator_set(user, target=None) -> bool:
    return _admin(user)


@rule(Action.CONTACT_REPORT)
def _contact_report(user, obj=None) -> bool:
    """The report of *mises en relation* (counts only)."""
    return _admin(user)


# -- structured debate: reactions, polls, synthesis -------------------------------------------


def _reactable(thread) -> bool:
    """Reactions and votes stay possible in a locked thread, not in a merged or archived one."""
    return not thread.merged_into_id and not thread.theme.is_archived


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


class ConversationRights:
    """What one viewer may do to each message of one conversation, for a page of hundreds.

    The message rules above depend on the viewer only through facts that are the same for
    every message: who they are, whether they may write, their row (window, still there).
    Those are taken once; each message is then decided from its own attributes.
    ``rights.message(message)`` is the set of actions ``can(user, action, message)``
    allows (``tests/messages/test_matrix.py`` checks that they agree).
    """

    __slots__ = ("member", "now", "row", "user_id", "writer")

    def __init__(self, user, conversation) -> None:
        self.member = _member(user)
        self.writer = _writer(user)
        self.row = _participant(user, conversation)
        self.user_id = user.id if self.member else None
        self.now = utcnow()

    def message(self, message) -> frozenset[Action]:
        row = self.row
        if row is None or message.kind != "message" or message.is_deleted:
            return frozenset()
        allowed = []
        if message.author_id == self.user_id:
            if row.left_at is None:
                allowed.append(Action.MESSAGE_DELETE)
                age = (self.now - message.created_at).total_seconds()
                if self.writer and age <= MESSAGE_EDIT_WINDOW_S:
                    allowed.append(Action.MESSAGE_EDIT)
        elif self.writer and not message.is_hidden and row.sees(message):
            allowed.append(Action.MESSAGE_REPORT)
        return frozenset(allowed)
