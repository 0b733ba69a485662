"""The notification list: a member's notifications, grouped, marked read, linked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    or_,
    select,
    update,
)
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post
from forum.extensions import db
from forum.notifications.fanout import recount
from forum.notifications.models import (
    Kind,
    ModerationEvent,
    Notification,
)
from forum.permissions import visible_posts, visible_threads


@dataclass
class Group:
    """Notifications of one kind in one thread shown as one line ("3 nouvelles réponses…")."""

    items: list[Notification]

    @property
    def first(self) -> Notification:
        return self.items[0]

    @property
    def unread(self) -> bool:
        return any(item.read_at is None for item in self.items)

    @property
    def count(self) -> int:
        return len(self.items)


def listing(user: User):
    """Select of ``user``'s notifications they may still see, newest first."""
    stmt = select(Notification).outerjoin(Notification.post).outerjoin(Notification.thread)
    visible = visible_threads(visible_posts(stmt, user), user).whereclause
    # The moderation's word on one's own post stays listed while the post is hidden
    # (it names the thread and the act, not the text; the post page shows its author
    # the post and the reason). Deleted posts take their notifications with them.
    own = (Notification.kind == Kind.MODERATION.value) & (
        Notification.post_id.is_(None) | (Post.author_id == user.id)
    )
    if visible is not None:
        stmt = stmt.where(or_(own, visible))
    return (
        stmt.options(
            joinedload(Notification.actor),
            joinedload(Notification.thread),
            joinedload(Notification.post),
            joinedload(Notification.conversation),
        )
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
    )


def group(notifications: list[Notification]) -> list[Group]:
    """Group a page of notifications by (kind, thread, read or not), keeping newest first."""
    groups: list[Group] = []
    index: dict[tuple, Group] = {}
    for item in notifications:
        if item.kind == Kind.MESSAGE:
            key = (item.kind, item.conversation_id, item.read_at is None)
            if key in index:
                index[key].items.append(item)
            else:
                index[key] = Group([item])
                groups.append(index[key])
            continue
        if item.thread_id is None or item.kind in (Kind.SEMINAR, Kind.MODERATION):
            groups.append(Group([item]))
            continue
        key = (item.kind, item.thread_id, item.read_at is None)
        if key in index:
            index[key].items.append(item)
        else:
            index[key] = Group([item])
            groups.append(index[key])
    return groups


def mark_read(user: User, notification: Notification | None = None) -> None:
    """Mark one notification (and its group: same kind, same thread) or all as read."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification is not None and notification.kind == Kind.MESSAGE:
        stmt = stmt.where(
            Notification.kind == notification.kind,
            Notification.conversation_id == notification.conversation_id,
        )
    elif notification is not None:
        if notification.thread_id is not None and notification.kind not in (
            Kind.SEMINAR,
            Kind.MODERATION,
        ):
            stmt = stmt.where(
                Notification.kind == notification.kind,
                Notification.thread_id == notification.thread_id,
            )
        else:
            stmt = stmt.where(Notification.id == notification.id)
    db.session.execute(stmt.values(read_at=utcnow()))
    recount([user.id])
    db.session.commit()


def target_url(notification: Notification) -> str:
    from flask import url_for

    if notification.kind == Kind.MODERATION and notification.event in (
        ModerationEvent.REPORT_HANDLED,
        ModerationEvent.SANCTION,
    ):
        return url_for("moderation.my_reports")
    if notification.conversation_id is not None:
        return url_for("messages.conversation", conversation_id=notification.conversation_id)
    if notification.contact_request_id is not None:
        return url_for("contacts.contact", contact_id=notification.contact_request_id)
    if notification.offer_id is not None:
        return url_for("directory.offer", offer_id=notification.offer_id)
    if notification.post_id is not None:
        return url_for("discussions.permalink", post_id=notification.post_id)
    if notification.thread_id is not None:
        return url_for("discussions.thread", thread_id=notification.thread_id)
    if notification.session_id is not None:
        return url_for("seminars.session", session_id=notification.session_id)
    if notification.seminar_id is not None:
        return url_for("seminars.seminar", seminar_id=notification.seminar_id)
    return url_for("notifications.index")
