"""Moderators' acts on posts and threads, and who moderates what: one call, one transaction.

Each act checks the rule (``ensure``), changes rows with conditional updates where two
moderators could race (``… WHERE hidden_at IS NULL``: the second is told it was already
done), writes exactly one log entry, and commits once. Nothing is destroyed: hiding keeps
the text, merges and splits keep every post and log what is needed to undo them by hand.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, select, update

from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.discussions.models import Post, Theme, Thread, path_segment
from forum.discussions.services import check_title, opening_post, slugify
from forum.extensions import db
from forum.moderation import log
from forum.moderation.models import ThemeModerator
from forum.notifications.fanout import notify_moderation
from forum.notifications.models import ModerationEvent
from forum.pages.versions import touch
from forum.permissions import Action, ensure, moderation_scope
from forum.refusals import Refused
from forum.search import services as search

REASON_MAX = 300


def check_reason(reason: str | None, *, required: bool = True) -> str:
    reason = " ".join((reason or "").split())
    if "\x00" in reason:
        raise Refused(_("La raison contient un caractère nul : retirez-le puis réessayez."))
    if required and len(reason) < 3:
        raise Refused(_("Indiquez la raison de cet acte de modération (3 caractères au moins)."))
    return reason[:REASON_MAX]


def _ensure_moderates(actor: User, theme: Theme) -> None:
    scope = moderation_scope(actor)
    if scope is not None and theme.id not in scope:
        raise Refused(
            _(
                "Vous ne modérez pas le thème « %(name)s » : choisissez-en un autre.",
                name=theme.name,
            )
        )


# -- roles ------------------------------------------------------------------------------------


def set_role(actor: User | None, user: User, role: str, theme: Theme | None = None) -> User:
    """Give ``user`` a role; ``moderator`` with ``theme`` adds that theme to their scope.

    ``moderator`` without a theme makes a global moderator (the scope rows go); any
    other role removes every scope. ``actor`` None is the command line.

    :raise 403: ``actor`` is not an admin.
    """
    if actor is not None:
        ensure(actor, Action.USER_SET_ROLE, user)
    role = Role(role)
    before = (user.role, sorted(_scope_slugs(user)))
    if role == Role.MODERATOR and theme is not None:
        exists = db.session.execute(
            select(ThemeModerator.id).where(
                ThemeModerator.user_id == user.id, ThemeModerator.theme_id == theme.id
            )
        ).scalar()
        if exists is None:
            db.session.add(ThemeModerator(user_id=user.id, theme_id=theme.id))
    else:
        db.session.execute(delete(ThemeModerator).where(ThemeModerator.user_id == user.id))
    user.role = role.value
    user.__dict__.pop("_moderation_scope", None)
    db.session.flush()
    log.record(
        actor,
        "user:set-role",
        user_id=user.id,
        theme_id=theme.id if theme else None,
        before={"role": before[0], "themes": before[1]},
        after={"role": role.value, "themes": sorted(_scope_slugs(user))},
    )
    db.session.commit()
    return user


def remove_theme_scope(actor: User, user: User, theme: Theme) -> User:
    """Take ``theme`` out of a theme moderator's scope; without themes left they are a member."""
    ensure(actor, Action.USER_SET_ROLE, user)
    db.session.execute(
        delete(ThemeModerator).where(
            ThemeModerator.user_id == user.id, ThemeModerator.theme_id == theme.id
        )
    )
    left = _scope_slugs(user)
    if not left and user.role == Role.MODERATOR:
        user.role = Role.MEMBER.value  # never a global moderator by accident
    log.record(
        actor, "user:remove-theme", user_id=user.id, theme_id=theme.id, themes_left=sorted(left)
    )
    db.session.commit()
    return user


def _scope_slugs(user: User) -> set[str]:
    return set(
        db.session.execute(
            select(Theme.slug)
            .join(ThemeModerator, ThemeModerator.theme_id == Theme.id)
            .where(ThemeModerator.user_id == user.id)
        ).scalars()
    )


# -- posts ------------------------------------------------------------------------------------


def _set_thread_hidden(post: Post) -> None:
    """The opening post's state is its thread's: hidden or pending keeps the thread out of lists."""
    if post.is_opening:
        hidden = post.hidden_at or post.pending_at
        db.session.execute(
            update(Thread).where(Thread.id == post.thread_id).values(hidden_at=hidden)
        )


def hide_post(
    actor: User | None, post: Post, reason: str, *, act: str = "post:hide"
) -> Post | None:
    """Hide ``post``: a placeholder for others; author and moderators still read it.

    ``actor`` None is the forum itself (enough reports): then a post already hidden is
    left as it is (None is returned) and the caller's transaction goes on.

    :raise Refused: no reason, or already hidden (another moderator was quicker).
    :raise 403: ``actor`` may not hide it.
    """
    if actor is not None:
        ensure(actor, Action.POST_HIDE, post)
    reason = check_reason(reason)
    now = utcnow()
    done = db.session.execute(
        update(Post)
        .where(Post.id == post.id, Post.hidden_at.is_(None))
        .values(hidden_at=now, hidden_by_id=getattr(actor, "id", None), hidden_reason=reason)
    ).rowcount
    if not done:
        if actor is None:
            return None
        db.session.rollback()
        raise Refused(_("Ce message est déjà masqué."))
    db.session.refresh(post)
    _set_thread_hidden(post)
    touch(thread=post.thread, relatives=post.is_opening)
    log.record(
        actor,
        act,
        user_id=post.author_id,
        theme_id=post.thread.theme_id,
        thread_id=post.thread_id,
        post_id=post.id,
        reason=reason,
    )
    return post


def hide(actor: User, post: Post, reason: str) -> Post:
    post = hide_post(actor, post, reason)
    notify_moderation([post.author_id], ModerationEvent.POST_HIDDEN, post=post)
    db.session.commit()
    return post


def restore(actor: User, post: Post, reason: str = "") -> Post:
    """Show a hidden post again. :raise Refused: not hidden any more."""
    ensure(actor, Action.POST_RESTORE, post)
    reason = check_reason(reason, required=False)
    done = db.session.execute(
        update(Post)
        .where(Post.id == post.id, Post.hidden_at.is_not(None))
        .values(hidden_at=None, hidden_by_id=None, hidden_reason="")
    ).rowcount
    if not done:
        db.session.rollback()
        raise Refused(_("Ce message n'est plus masqué."))
    hidden_reason = post.hidden_reason
    db.session.refresh(post)
    _set_thread_hidden(post)
    touch(thread=post.thread, relatives=post.is_opening)
    log.record(
        actor,
        "post:restore",
        user_id=post.author_id,
        theme_id=post.thread.theme_id,
        thread_id=post.thread_id,
        post_id=post.id,
        reason=reason,
        hidden_reason=hidden_reason,
    )
    notify_moderation([post.author_id], ModerationEvent.POST_RESTORED, post=post)
    db.session.commit()
    return post


def review_pending(actor: User, post: Post, approve: bool, reason: str) -> Post:
    """Approve (publish) or reject (hide) a post awaiting approval.

    :raise Refused: already handled by someone else, or no reason for a rejection.
    """
    ensure(actor, Action.POST_APPROVE, post)
    reason = check_reason(reason, required=not approve)
    values = {"pending_at": None}
    if not approve:
        values.update(hidden_at=utcnow(), hidden_by_id=actor.id, hidden_reason=reason)
    done = db.session.execute(
        update(Post).where(Post.id == post.id, Post.pending_at.is_not(None)).values(**values)
    ).rowcount
    if not done:
        db.session.rollback()
        raise Refused(_("Ce message a déjà été traité par un·e autre modérateur·rice."))
    db.session.refresh(post)
    _set_thread_hidden(post)
    touch(thread=post.thread, relatives=post.is_opening)
    log.record(
        actor,
        "post:approve" if approve else "post:reject",
        user_id=post.author_id,
        theme_id=post.thread.theme_id,
        thread_id=post.thread_id,
        post_id=post.id,
        reason=reason,
    )
    notify_moderation(
        [post.author_id],
        ModerationEvent.PENDING_APPROVED if approve else ModerationEvent.PENDING_REJECTED,
        post=post,
    )
    db.session.commit()
    return post


# -- threads ----------------------------------------------------------------------------------


def _thread_act(
    actor: User,
    thread: Thread,
    action: Action,
    act: str,
    column: str,
    value: bool,
    reason: str,
    notice: ModerationEvent | None = None,
    **also,
) -> Thread:
    """Set a thread's flag (``locked``, ``pinned``) and log the act with its reason.

    ``notice``: what its author (unless the actor) is told, in the same transaction.
    ``also``: more columns to set with the flag (the lock's reason shown to readers).
    """
    ensure(actor, action, thread)
    reason = check_reason(reason, required=False)
    done = db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id, getattr(Thread, column) == (not value))
        .values({column: value, **also})
    ).rowcount
    if not done:
        db.session.rollback()
        raise Refused(_("C'est déjà fait : rien n'a changé."))
    log.record(
        actor,
        act,
        user_id=thread.author_id,
        theme_id=thread.theme_id,
        thread_id=thread.id,
        reason=reason,
    )
    touch(thread=thread)
    if notice is not None and thread.author_id != actor.id:
        notify_moderation([thread.author_id], notice, thread=thread, reason=reason)
    db.session.commit()
    db.session.refresh(thread)
    return thread


def lock(actor: User, thread: Thread, reason: str = "") -> Thread:
    """Lock ``thread``: readers see the reason with the lock, its author is told."""
    reason = check_reason(reason, required=False)
    return _thread_act(
        actor,
        thread,
        Action.THREAD_LOCK,
        "thread:lock",
        "locked",
        True,
        reason,
        notice=ModerationEvent.THREAD_LOCKED,
        lock_reason=reason,
    )


def unlock(actor: User, thread: Thread, reason: str = "") -> Thread:
    return _thread_act(
        actor, thread, Action.THREAD_LOCK, "thread:unlock", "locked", False, reason, lock_reason=""
    )


def pin(actor: User, thread: Thread, reason: str = "") -> Thread:
    return _thread_act(actor, thread, Action.THREAD_PIN, "thread:pin", "pinned", True, reason)


def unpin(actor: User, thread: Thread, reason: str = "") -> Thread:
    return _thread_act(actor, thread, Action.THREAD_PIN, "thread:unpin", "pinned", False, reason)


def _move_counts(theme_id: int, threads: int, posts: int) -> None:
    db.session.execute(
        update(Theme)
        .where(Theme.id == theme_id)
        .values(thread_count=Theme.thread_count + threads, post_count=Theme.post_count + posts)
    )


def move(actor: User, thread: Thread, theme: Theme, reason: str = "") -> Thread:
    """Move ``thread`` to ``theme`` with its posts and counters.

    :raise Refused: same theme, an archived theme, or a theme the actor does not moderate.
    """
    ensure(actor, Action.THREAD_MOVE, thread)
    reason = check_reason(reason, required=False)
    if theme.id == thread.theme_id:
        raise Refused(_("Le fil est déjà dans ce thème."))
    if theme.is_archived:
        raise Refused(_("Ce thème est archivé : on n'y déplace plus de fil."))
    _ensure_moderates(actor, theme)
    old = thread.theme_id
    posts = thread.reply_count + 1
    _move_counts(old, -1, -posts)
    _move_counts(theme.id, 1, posts)
    touch(thread=thread, theme=theme)  # the thread's old theme too
    db.session.execute(update(Thread).where(Thread.id == thread.id).values(theme_id=theme.id))
    log.record(
        actor,
        "thread:move",
        user_id=thread.author_id,
        theme_id=theme.id,
        thread_id=thread.id,
        reason=reason,
        from_theme=old,
        to_theme=theme.id,
    )
    search.index_thread(thread)
    db.session.commit()
    db.session.refresh(thread)
    return thread


def merge(actor: User, thread: Thread, into: Thread, reason: str = "") -> Thread:
    """Move every post of ``thread`` under the opening post of ``into``; the old URL redirects.

    The old opening post becomes a reply to the target's opening post; the branch keeps its
    shape (each path gains the new segment in front). The log keeps the post ids, the old
    thread and the segment, enough to undo the merge by hand.

    :raise Refused: the same thread, a merged target, or a target the actor does not moderate.
    """
    ensure(actor, Action.THREAD_MERGE, thread)
    reason = check_reason(reason, required=False)
    if into.id == thread.id:
        raise Refused(_("Un fil ne peut pas être fusionné avec lui-même."))
    if into.merged_into_id is not None:
        raise Refused(_("Le fil cible a lui-même été fusionné : choisissez le fil d'arrivée."))
    _ensure_moderates(actor, into.theme)
    old_root, new_root = opening_post(thread.id), opening_post(into.id)
    post_ids = list(
        db.session.execute(select(Post.id).where(Post.thread_id == thread.id)).scalars()
    )
    rank = db.session.execute(
        update(Post)
        .where(Post.id == new_root.id)
        .values(child_count=Post.child_count + 1)
        .returning(Post.child_count)
    ).scalar_one()
    segment = path_segment(rank)
    db.session.execute(
        update(Post)
        .where(Post.thread_id == thread.id)
        .values(thread_id=into.id, path=literal(segment) + Post.path, depth=Post.depth + 1)
    )
    db.session.execute(update(Post).where(Post.id == old_root.id).values(parent_id=new_root.id))
    moved = len(post_ids)
    db.session.execute(
        update(Thread)
        .where(Thread.id == into.id)
        .values(
            reply_count=Thread.reply_count + moved,
            last_post_at=func.coalesce(
                select(func.max(Post.created_at))
                .where(Post.thread_id == into.id)
                .scalar_subquery(),
                Thread.last_post_at,
            ),
        )
    )
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(merged_into_id=into.id, reply_count=0, pinned=False)
    )
    _move_counts(thread.theme_id, -1, -moved)
    _move_counts(into.theme_id, 0, moved)
    log.record(
        actor,
        "thread:merge",
        user_id=thread.author_id,
        theme_id=thread.theme_id,
        thread_id=thread.id,
        post_id=old_root.id,
        reason=reason,
        into_thread=into.id,
        into_theme=into.theme_id,
        from_title=thread.title,
        path_prefix=segment,
        post_ids=post_ids,
    )
    search.index_thread(into, former_openings=[old_root.id])
    touch(threads=[thread, into])
    db.session.commit()
    db.session.refresh(into)
    return into


def split(actor: User, post: Post, title: str, reason: str = "") -> Thread:
    """Make the branch rooted at ``post`` a new thread of the same theme, linked both ways.

    :raise Refused: a bad title.
    :raise 403: ``actor`` may not split here (the opening post cannot be split off).
    """
    ensure(actor, Action.POST_SPLIT, post)
    title = check_title(title)
    reason = check_reason(reason, required=False)
    old = post.thread
    prefix, depth = post.path, post.depth
    post_ids = list(
        db.session.execute(
            select(Post.id).where(
                Post.thread_id == old.id, Post.path >= prefix, Post.path < prefix + ":"
            )
        ).scalars()
    )
    last = db.session.execute(
        select(func.max(Post.created_at)).where(Post.id.in_(post_ids))
    ).scalar_one()
    new = Thread(
        theme_id=old.theme_id,
        author_id=post.author_id,
        title=title,
        slug=slugify(title),
        reply_count=len(post_ids) - 1,
        last_post_at=last,
        last_post_author_id=post.author_id,
        split_from_id=old.id,
        hidden_at=post.hidden_at or post.pending_at,
    )
    db.session.add(new)
    db.session.flush()
    db.session.execute(
        update(Post)
        .where(Post.id.in_(post_ids))
        .values(
            thread_id=new.id,
            path=func.substr(Post.path, len(prefix) + 1),
            depth=Post.depth - depth,
        )
    )
    old_parent = post.parent_id
    db.session.execute(update(Post).where(Post.id == post.id).values(parent_id=None))
    db.session.execute(
        update(Thread)
        .where(Thread.id == old.id)
        .values(
            reply_count=Thread.reply_count - len(post_ids),
            last_post_at=func.coalesce(
                select(func.max(Post.created_at)).where(Post.thread_id == old.id).scalar_subquery(),
                Thread.created_at,
            ),
        )
    )
    _move_counts(old.theme_id, 1, 0)
    touch(threads=[old, new])
    log.record(
        actor,
        "post:split",
        user_id=post.author_id,
        theme_id=old.theme_id,
        thread_id=old.id,
        post_id=post.id,
        reason=reason,
        new_thread=new.id,
        old_parent=old_parent,
        old_path=prefix,
        old_depth=depth,
        post_ids=post_ids,
    )
    search.index_thread(new)
    db.session.commit()
    return new
