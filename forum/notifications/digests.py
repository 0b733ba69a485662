"""The daily digest: pending notifications and the next day's seminars, in one mail."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    select,
)
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import utcnow, write_intent
from forum.extensions import db
from forum.jobs.services import handler
from forum.notifications import mail
from forum.notifications.models import (
    Kind,
    Notification,
)
from forum.notifications.preferences import DIGEST, unsubscribe_url
from forum.permissions import Action, can


def send_digests(now=None, *, commit: bool = True) -> int:
    """Queue each member's digest: pending notifications and seminars in the next day.

    Returns the number of digests queued; the worker sends them. The worker runs this
    daily at ``FORUM_DIGEST_HOUR`` (job ``notifications.digests``, which commits it with
    the job's completion: ``commit=False``); ``flask forum send-digests`` runs it by hand.
    """
    from forum.seminars.models import Registration, RegistrationStatus, Seminar, SeminarStatus

    now = now or utcnow()
    with write_intent():
        pending = list(
            db.session.execute(
                select(Notification)
                .options(
                    joinedload(Notification.thread),
                    joinedload(Notification.post),
                    joinedload(Notification.conversation),
                )
                .where(Notification.digest_state == "pending")
                .order_by(Notification.user_id, Notification.id)
            ).scalars()
        )
        upcoming = db.session.execute(
            select(Registration.user_id, Seminar)
            .join(Seminar, Seminar.id == Registration.seminar_id)
            .where(
                Registration.status == RegistrationStatus.CONFIRMED,
                Seminar.status == SeminarStatus.PUBLISHED,
                Seminar.starts_at > now,
                Seminar.starts_at <= now + timedelta(days=1),
            )
        ).all()
        per_user: dict[int, list[Notification]] = defaultdict(list)
        for item in pending:
            per_user[item.user_id].append(item)
        seminars_of: dict[int, list] = defaultdict(list)
        for user_id, seminar in upcoming:
            seminars_of[user_id].append(seminar)
        user_ids = set(per_user) | set(seminars_of)
        users = {
            user.id: user
            for user in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()
        }
        queued = []
        for user_id in sorted(user_ids):
            user = users[user_id]
            threads, new_threads = _digest_sections(user, per_user[user_id])
            conversations = _conversation_section(per_user[user_id])
            if not (threads or new_threads or seminars_of[user_id] or conversations):
                continue
            with force_locale(user.locale or "fr"):
                subject = _(
                    "Les nouvelles du forum %(site)s", site=current_app.config["FORUM_SITE_NAME"]
                )
            queued.append(
                mail.queue(
                    user.email,
                    subject,
                    "digest",
                    user=user,
                    unsubscribe_url=unsubscribe_url(user.id, DIGEST),
                    threads=threads,
                    new_threads=new_threads,
                    conversations=conversations,
                    seminars=[
                        (s, mail.external_url("seminars.seminar", seminar_id=s.id))
                        for s in seminars_of[user_id]
                    ],
                )
            )
        for item in pending:
            item.digest_state = "sent"
        db.session.flush()
        if commit:
            db.session.commit()
    return len(queued)


@handler("notifications.digests")
def digest_job(_payload: dict) -> None:
    send_digests(commit=False)


def _digest_sections(user: User, items: list[Notification]):
    """(threads with new posts: [(thread, count, url)], new threads: [(thread, url)])."""
    by_thread: dict[int, list[Notification]] = defaultdict(list)
    new_threads = []
    for item in items:
        if item.kind == Kind.MODERATION:
            continue  # told under the bell; the digest lists what others wrote
        if item.thread is None or (item.post is not None and item.post.is_deleted):
            continue
        if not can(user, Action.THREAD_VIEW, item.thread):
            continue
        if item.kind == Kind.NEW_THREAD:
            new_threads.append(
                (item.thread, mail.external_url("discussions.thread", thread_id=item.thread_id))
            )
        else:
            by_thread[item.thread_id].append(item)
    threads = [
        (
            group[0].thread,
            len(group),
            mail.external_url("discussions.permalink", post_id=group[0].post_id),
        )
        for group in by_thread.values()
    ]
    return threads, new_threads


def _conversation_section(items: list[Notification]):
    """Private conversations with new messages: [(subject, count, url)]; never their text."""
    counts: dict[int, list[Notification]] = defaultdict(list)
    for item in items:
        if item.kind == Kind.MESSAGE and item.conversation is not None:
            counts[item.conversation_id].append(item)
    return [
        (
            group[0].conversation.subject,
            len(group),
            mail.external_url("messages.conversation", conversation_id=conversation_id),
        )
        for conversation_id, group in counts.items()
    ]
