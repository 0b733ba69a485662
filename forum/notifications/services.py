"""Watching, fan-out of notifications, read positions, digests.

Notifications are created *after* the event's commit (:func:`after_post`,
:func:`notify_seminar`), in their own transaction, and any error there is
logged and swallowed: a post never fails or waits because of them (the
author's own read position and watch, :func:`record_own_post`, belong to the
post's transaction). Fan-out costs a fixed number of queries whatever the
number of recipients: one query for the recipients of every source with their
rows, one for their preferences, one bulk insert, one counter update, one
outbox insert; the reads and the rendering come before the first write.
Recipients who may not see the content are dropped
(:func:`forum.permissions.can`), and listings filter through
:func:`forum.permissions.visible_posts` again when shown.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    DateTime,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from forum import content
from forum.accounts.models import User
from forum.db import reads_first, utcnow, write_intent
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.notifications import mail
from forum.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Kind,
    Level,
    MailPreference,
    ModerationEvent,
    Notification,
    SeminarEvent,
    ThemeWatch,
    ThreadState,
)
from forum.permissions import Action, can, ensure, visible_posts, visible_threads
from forum.refusals import Refused

UNSUBSCRIBE_SALT = "forum-unsubscribe"
#: The unsubscribe link of the digest turns off every kind delivered in the digest.
DIGEST = "digest"
#: Priority when one post concerns a member several ways: the first kind wins.
PRIORITY = (Kind.MENTION, Kind.REPLY, Kind.WATCHED_POST, Kind.NEW_THREAD)


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


# -- watching ---------------------------------------------------------------------------------


def state_for(user, thread_id: int) -> ThreadState | None:
    if not user.is_authenticated:
        return None
    return db.session.get(ThreadState, (user.id, thread_id))


def states_for(user, thread_ids: list[int]) -> dict[int, ThreadState]:
    """The member's states of these threads, by thread id: one query (none if anonymous)."""
    if not user.is_authenticated or not thread_ids:
        return {}
    rows = db.session.execute(
        select(ThreadState).where(
            ThreadState.user_id == user.id, ThreadState.thread_id.in_(thread_ids)
        )
    ).scalars()
    return {row.thread_id: row for row in rows}


def _level(level: str) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise Refused(
            _("Niveau de suivi inconnu : choisissez suivre, normal ou silencieux.")
        ) from None


def watch_thread(user: User, thread: Thread, level: str) -> None:
    """Set ``user``'s watch level on ``thread``. :raise Refused: unknown level."""
    ensure(user, Action.THREAD_WATCH, thread)
    level = _level(level)
    stmt = _insert(ThreadState).values(
        user_id=user.id, thread_id=thread.id, level=level.value, updated_at=utcnow()
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "thread_id"], set_={"level": stmt.excluded.level}
        )
    )
    db.session.commit()


def watch_theme(user: User, theme: Theme, level: str) -> None:
    """``watching``: be told of new threads in ``theme``; ``normal``/``muted``: not."""
    ensure(user, Action.THEME_WATCH, theme)
    level = _level(level)
    db.session.execute(
        delete(ThemeWatch).where(ThemeWatch.user_id == user.id, ThemeWatch.theme_id == theme.id)
    )
    if level == Level.WATCHING:
        db.session.add(ThemeWatch(user_id=user.id, theme_id=theme.id))
    db.session.commit()


def watches_theme(user, theme: Theme) -> bool:
    if not user.is_authenticated:
        return False
    return db.session.get(ThemeWatch, (user.id, theme.id)) is not None


def followed(user: User) -> tuple[list[ThreadState], list[ThemeWatch]]:
    """Threads ``user`` watches or muted, and themes watched."""
    threads = db.session.execute(
        visible_threads(select(ThreadState).join(ThreadState.thread), user)
        .options(joinedload(ThreadState.thread))
        .where(ThreadState.user_id == user.id, ThreadState.level.in_(["watching", "muted"]))
        .order_by(Thread.last_post_at.desc())
        .limit(200)
    ).scalars()
    themes = db.session.execute(
        select(ThemeWatch)
        .options(joinedload(ThemeWatch.theme))
        .where(ThemeWatch.user_id == user.id)
        .order_by(ThemeWatch.created_at)
    ).scalars()
    return list(threads), list(themes)


# -- unread tracking --------------------------------------------------------------------------


def unread_count(thread: Thread, state: ThreadState | None) -> int:
    return max(thread.reply_count + 1 - (state.read_count if state else 0), 0)


def record_read(
    user, thread: Thread, shown: list[Post], state: ThreadState | None, *, whole: bool
) -> None:
    """Move ``user``'s read position past the posts just shown: one write at most.

    ``whole``: the page showed the entire thread. Otherwise the position only
    advances over unread posts that were all on the page (one more query). A
    busy database skips the write: the page never fails for it.
    """
    if not user.is_authenticated or not shown:
        return
    old_last = state.last_read_post_id if state else 0
    old_count = state.read_count if state else 0
    if whole:
        new_last = max(max(post.id for post in shown), old_last)
        new_count = thread.reply_count + 1
    else:
        shown_ids = {post.id for post in shown}
        unread = db.session.execute(
            select(Post.id)
            .where(Post.thread_id == thread.id, Post.id > old_last)
            .order_by(Post.id)
            .limit(1000)
        ).scalars()
        new_last, new_count = old_last, old_count
        for post_id in unread:
            if post_id not in shown_ids:
                break
            new_last, new_count = post_id, new_count + 1
    if new_last == old_last and new_count == old_count:
        return
    user_id, thread_id = user.id, thread.id  # read before the commit expires them
    try:
        with _impatient():
            _save_read_position(user_id, thread_id, new_last, new_count)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.info("read position of thread %s skipped: database busy", thread_id)


#: How long a page view waits for SQLite's write lock before skipping its read position.
READ_POSITION_BUSY_MS = 100


@contextmanager
def _impatient() -> Iterator[None]:
    """On SQLite, end the page's read transaction and wait only briefly for the write lock.

    A page view is a GET: its transaction began deferred, and upgrading it could
    wait the whole busy timeout behind a writer. The read position is not worth it.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    db.session.commit()
    db.session.execute(text(f"PRAGMA busy_timeout = {READ_POSITION_BUSY_MS}"))
    try:
        yield
    finally:
        db.session.rollback()  # nothing left to keep: the body commits what it wrote
        timeout = int(current_app.config["FORUM_SQLITE_BUSY_TIMEOUT_MS"])
        db.session.execute(text(f"PRAGMA busy_timeout = {timeout}"))
        db.session.commit()


def _save_read_position(user_id: int, thread_id: int, last: int, count: int) -> None:
    stmt = _insert(ThreadState).values(
        user_id=user_id,
        thread_id=thread_id,
        last_read_post_id=last,
        read_count=count,
        updated_at=utcnow(),
    )
    greatest = func.max if db.session.get_bind().dialect.name == "sqlite" else func.greatest
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "thread_id"],
            set_={
                "last_read_post_id": greatest(
                    ThreadState.last_read_post_id, stmt.excluded.last_read_post_id
                ),
                "read_count": stmt.excluded.read_count,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


def first_unread_post_id(user, thread: Thread) -> int | None:
    state = state_for(user, thread.id)
    stmt = visible_posts(select(func.min(Post.id)), user).where(Post.thread_id == thread.id)
    if state is not None:
        stmt = stmt.where(Post.id > state.last_read_post_id)
    return db.session.execute(stmt).scalar()


def unread_threads(user: User, limit: int = 100) -> list[ThreadState]:
    """Followed threads with posts ``user`` has not read, latest activity first."""
    return list(
        db.session.execute(
            visible_threads(select(ThreadState).join(ThreadState.thread), user)
            .options(joinedload(ThreadState.thread).joinedload(Thread.last_post_author))
            .where(
                ThreadState.user_id == user.id,
                ThreadState.level == Level.WATCHING,
                Thread.reply_count + 1 > ThreadState.read_count,
            )
            .order_by(Thread.last_post_at.desc())
            .limit(limit)
        ).scalars()
    )


# -- fan-out ----------------------------------------------------------------------------------


@dataclass
class Event:
    """One thing to tell several members: what each notification row and mail carries."""

    kind_of: dict[int, Kind]
    fields: dict = field(default_factory=dict)
    event: str | None = None
    mail: dict = field(default_factory=dict)


_PREFERENCES = select(MailPreference.user_id, MailPreference.kind, MailPreference.delivery).where(
    MailPreference.user_id.in_(bindparam("users", expanding=True))
)


def _preferences(user_ids: list[int]) -> dict[tuple[int, str], str]:
    if not user_ids:
        return {}
    rows = db.session.execute(_PREFERENCES, {"users": user_ids})
    return {(user_id, kind): delivery for user_id, kind, delivery in rows}


def delivery_for(prefs: dict, user_id: int, kind: str) -> Delivery:
    return Delivery(prefs.get((user_id, kind), DEFAULT_DELIVERY[Kind(kind)]))


def unsubscribe_url(user_id: int, kind: str) -> str:
    token = mail.sign(UNSUBSCRIBE_SALT, [user_id, kind])
    return mail.external_url("notifications.unsubscribe", token=token)


# Built once and run on the tables: every reply that notifies someone runs them, and
# building an ORM statement costs more than running it (the commit expires the objects).
_notifications, _users = Notification.__table__, User.__table__
_NOTIFY = insert(_notifications)
_RING = (
    update(_users)
    .where(_users.c.id.in_(bindparam("recipients", expanding=True)))
    .values(unread_notifications=_users.c.unread_notifications + 1)
)


def _fan_out(users: list[User], event: Event) -> list[int]:
    """Insert the notifications, move the counters, queue the immediate mails, commit.

    Returns the ids of the queued mails (to send after commit).
    """
    if not users:
        return []
    now = utcnow()
    ids = [user.id for user in users]
    prefs = _preferences(ids)
    rows, outbox = [], []
    for user in users:
        kind = event.kind_of[user.id]
        delivery = delivery_for(prefs, user.id, kind)
        rows.append(
            {
                "user_id": user.id,
                "kind": kind.value,
                "event": event.event,
                "created_at": now,
                "digest_state": "pending" if delivery == Delivery.DIGEST else None,
                **event.fields,
            }
        )
        if delivery == Delivery.IMMEDIATELY and user.email:
            outbox.append(_notification_mail(user, kind, event))
    db.session.execute(_NOTIFY, rows)
    db.session.execute(_RING, {"recipients": ids})
    mail_ids = mail.queue_rows(outbox)
    db.session.commit()
    return mail_ids


def _notification_mail(user: User, kind: Kind, event: Event) -> dict:
    with force_locale(user.locale or "fr"):
        subject = _subject(kind, event)
    context = dict(event.mail)
    if kind == Kind.MODERATION:
        context["headline"] = subject  # in the member's language
    return mail.compose(
        user.email,
        subject,
        "notification",
        user=user,
        kind=kind.value,
        unsubscribe_url=unsubscribe_url(user.id, kind.value),
        **context,
    )


def _subject(kind: Kind, event: Event) -> str:
    actor = event.mail.get("actor_name", "")
    title = event.mail.get("title", "")
    if kind == Kind.MENTION:
        return _("%(actor)s vous a mentionné·e dans « %(title)s »", actor=actor, title=title)
    if kind == Kind.REPLY:
        return _("%(actor)s vous a répondu dans « %(title)s »", actor=actor, title=title)
    if kind == Kind.WATCHED_POST:
        return _("Nouveau message dans « %(title)s »", title=title)
    if kind == Kind.NEW_THREAD:
        return _("Nouveau fil « %(title)s »", title=title)
    if kind == Kind.MODERATION:
        return _moderation_subject(
            ModerationEvent(event.event), title, event.mail.get("sanction_kind")
        )
    return event.mail.get("headline", title)


#: The author's own state after a post: the same upsert on SQLite and PostgreSQL, written
#: out so that SQLAlchemy caches it (its dialect INSERT … ON CONFLICT is compiled anew on
#: every call, which costs more than running it).
_OWN_POST_STATE = text(
    "INSERT INTO thread_states"
    " (user_id, thread_id, level, last_read_post_id, read_count, updated_at)"
    " VALUES (:user_id, :thread_id, :level, :post_id, :read_count, :updated_at)"
    " ON CONFLICT (user_id, thread_id) DO UPDATE SET"
    " level = coalesce(thread_states.level, excluded.level),"
    " last_read_post_id = excluded.last_read_post_id,"
    " read_count = excluded.read_count"
).bindparams(bindparam("updated_at", type_=DateTime))


def record_own_post(post: Post, posts_in_thread: int) -> None:
    """In the post's transaction: its author has read the thread up to it, and follows
    the thread (a setting). ``posts_in_thread``: opening post included, this one too."""
    db.session.execute(
        _OWN_POST_STATE,
        {
            "user_id": post.author_id,
            "thread_id": post.thread_id,
            "level": Level.WATCHING.value if current_app.config["FORUM_AUTO_WATCH"] else None,
            "post_id": post.id,
            "read_count": posts_in_thread,
            "updated_at": utcnow(),
        },
    )


#: Where a recipient comes from, as the recipients query labels it.
_MUTED = Level.MUTED.value
_SOURCES = {
    Kind.MENTION.value: Kind.MENTION,
    Kind.REPLY.value: Kind.REPLY,
    Level.WATCHING.value: Kind.WATCHED_POST,
    Kind.NEW_THREAD.value: Kind.NEW_THREAD,
}


@functools.cache
def _recipients_query(mentions: bool, reply: bool, new_thread: bool):
    """Every recipient of a post with its row and source, as one query: built once per
    shape (building it, a UNION ALL of up to four sources, costs more than running it)."""
    sources = [
        select(ThreadState.user_id, ThreadState.level.label("source")).where(
            ThreadState.thread_id == bindparam("thread"),
            ThreadState.level.in_([Level.WATCHING.value, _MUTED]),
        )
    ]
    if mentions:
        sources.append(
            select(User.id, literal(Kind.MENTION.value)).where(
                User.username_key.in_(bindparam("keys", expanding=True))
            )
        )
    if reply:
        sources.append(
            select(Post.author_id, literal(Kind.REPLY.value)).where(
                Post.id == bindparam("parent"), Post.deleted_at.is_(None)
            )
        )
    if new_thread:
        sources.append(
            select(ThemeWatch.user_id, literal(Kind.NEW_THREAD.value)).where(
                ThemeWatch.theme_id == bindparam("theme")
            )
        )
    rows = union_all(*sources).subquery() if len(sources) > 1 else sources[0].subquery()
    return select(User, rows.c.source).join(rows, User.id == rows.c.user_id)


def _recipients_of(
    post: Post, thread: Thread, new_thread: bool
) -> tuple[dict[int, Kind], list[User]]:
    """Who hears of ``post`` and how, and their rows: one query whatever their number.

    Mentioned members, the parent's author, the thread's watchers and, for a new
    thread, the theme's watchers; never the author, never a member who muted the thread.
    """
    from forum.accounts.services import username_key

    keys = sorted({username_key(name) for name in content.mentioned_usernames(post.body_source)})
    query = _recipients_query(bool(keys), post.parent_id is not None, new_thread)
    params = {"thread": thread.id, "keys": keys, "parent": post.parent_id, "theme": thread.theme_id}
    kinds: dict[int, set[Kind]] = defaultdict(set)
    muted, users = set(), {}
    for user, source in db.session.execute(query, params):
        users[user.id] = user
        if source == _MUTED:
            muted.add(user.id)
        else:
            kinds[user.id].add(_SOURCES[source])
    kind_of = {
        user_id: next(kind for kind in PRIORITY if kind in found)
        for user_id, found in kinds.items()
        if user_id != post.author_id and user_id not in muted
    }
    return kind_of, [users[user_id] for user_id in kind_of]


#: A post with its thread (theme joined) and its author, in one query built once.
_POST_THREAD_AUTHOR = (
    select(Post, Thread, User)
    .join(Post.thread)
    .join(User, User.id == Post.author_id)
    .where(Post.id == bindparam("post"))
)


def after_post(post: Post, *, new_thread: bool = False) -> None:
    """Notify who should learn of ``post`` (committed already). Never raises.

    Reads and renders first, then writes every row in one short transaction (on
    SQLite the write lock is taken at the first insert, :func:`forum.db.reads_first`).
    """
    post_id = inspect(post).identity[0]  # the commit expired ``post``: no reload for its id
    try:
        with reads_first():
            post, thread, author = db.session.execute(_POST_THREAD_AUTHOR, {"post": post_id}).one()
            kind_of, candidates = _recipients_of(post, thread, new_thread)
            users = [user for user in candidates if can(user, Action.THREAD_VIEW, thread)]
            event = Event(
                kind_of=kind_of,
                fields={"actor_id": post.author_id, "thread_id": thread.id, "post_id": post.id},
                mail={
                    "actor_name": author.username,
                    "title": thread.title,
                    "excerpt": content.plain_text(post.body_html, 500),
                    "url": mail.external_url("discussions.permalink", post_id=post.id),
                },
            )
            mail_ids = _fan_out(users, event) if users else []
        mail.deliver_quietly(mail_ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("notifications for post %s failed", post_id)


def after_thread(thread: Thread) -> None:
    """:func:`after_post` for the opening post of a thread created with ``commit=False``."""
    post = db.session.execute(
        select(Post).where(Post.thread_id == thread.id, Post.parent_id.is_(None))
    ).scalar()
    if post is not None:
        after_post(post, new_thread=True)


SEMINAR_SUBJECTS = {
    SeminarEvent.FOLLOW_UP: "La discussion continue : « %(title)s »",
    SeminarEvent.MINUTES: "Compte rendu publié : « %(title)s »",
    SeminarEvent.PROMOTED: "Votre inscription est confirmée : « %(title)s »",
    SeminarEvent.CANCELLED: "Séminaire annulé : « %(title)s »",
}


def notify_seminar(
    user_ids: list[int],
    event: SeminarEvent,
    *,
    seminar,
    session=None,
    thread: Thread | None = None,
) -> None:
    """Tell registrants about their seminar (after the organiser's commit). Never raises."""
    try:
        with write_intent():
            users = []
            if user_ids:
                users = list(
                    db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()
                )
            if thread is not None:
                users = [user for user in users if can(user, Action.THREAD_VIEW, thread)]
            if thread is not None:
                url = mail.external_url("discussions.thread", thread_id=thread.id)
                title = thread.title
            elif session is not None:
                url = mail.external_url("seminars.session", session_id=session.id)
                title = session.title
            else:
                url = mail.external_url("seminars.seminar", seminar_id=seminar.id)
                title = seminar.title
            subject = _(SEMINAR_SUBJECTS[event], title=title)
            payload = Event(
                kind_of={user.id: Kind.SEMINAR for user in users},
                event=event.value,
                fields={
                    "seminar_id": seminar.id,
                    "session_id": session.id if session is not None else None,
                    "thread_id": thread.id if thread is not None else None,
                },
                mail={
                    "headline": subject,
                    "title": title,
                    "seminar_title": seminar.title,
                    "event": event.value,
                    "url": url,
                },
            )
            mail_ids = _fan_out(users, payload)
        mail.deliver_quietly(mail_ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("seminar notifications (%s) failed", event)


def _moderation_subject(event: ModerationEvent, title: str, sanction_kind: str | None) -> str:
    """The subject (and headline) of a moderation notification: the act, never the post."""
    if event == ModerationEvent.POST_HIDDEN:
        return _("Votre message dans « %(title)s » a été masqué par la modération", title=title)
    if event == ModerationEvent.POST_RESTORED:
        return _("Votre message dans « %(title)s » est de nouveau visible", title=title)
    if event == ModerationEvent.REPORT_HANDLED:
        return _("Votre signalement a été traité")
    if event == ModerationEvent.PENDING_APPROVED:
        return _("Votre message dans « %(title)s » a été publié", title=title)
    if event == ModerationEvent.PENDING_REJECTED:
        return _("Votre message dans « %(title)s » a été refusé par la modération", title=title)
    if sanction_kind == "silence":
        return _("La modération vous a retiré pour un temps le droit de publier")
    if sanction_kind == "suspend":
        return _("La modération a suspendu votre compte")
    if sanction_kind == "ban":
        return _("La modération a fermé votre compte")
    return _("Un·e modérateur·rice vous a adressé un avertissement")


def notify_moderation(
    user_ids: list[int],
    event: ModerationEvent,
    *,
    post: Post | None = None,
    thread: Thread | None = None,
    sanction_kind: str | None = None,
    reason: str = "",
) -> None:
    """Tell members what the moderation decided about them (after its commit). Never raises.

    The notification names the thread and the act, never the post's text. ``post``:
    the post concerned (its author is told; the link shows them the post and the
    reason). Reporters (``report_handled``) and sanctioned members get no link to the
    content. ``reason``: the moderator's reason, mailed with a sanction only.
    """
    try:
        event = ModerationEvent(event)
        post_id = post.id if post is not None else None
        thread_id = thread.id if thread is not None else None
        with write_intent():
            users = []
            ids = sorted({user_id for user_id in user_ids if user_id is not None})
            if ids:
                users = list(db.session.execute(select(User).where(User.id.in_(ids))).scalars())
            if post_id is not None and thread_id is None:
                thread_id = db.session.execute(
                    select(Post.thread_id).where(Post.id == post_id)
                ).scalar()
            title = ""
            if thread_id is not None:
                title = (
                    db.session.execute(select(Thread.title).where(Thread.id == thread_id)).scalar()
                    or ""
                )
            fields = {"thread_id": None, "post_id": None}
            if event in (ModerationEvent.REPORT_HANDLED, ModerationEvent.SANCTION):
                url = mail.external_url("moderation.my_reports")
            elif post_id is not None:
                fields = {"thread_id": thread_id, "post_id": post_id}
                url = mail.external_url("discussions.permalink", post_id=post_id)
            else:
                fields = {"thread_id": thread_id, "post_id": None}
                url = mail.external_url("discussions.thread", thread_id=thread_id)
            with force_locale("fr"):
                headline = _moderation_subject(event, title, sanction_kind)
            payload = Event(
                kind_of={user.id: Kind.MODERATION for user in users},
                event=event.value,
                fields=fields,
                mail={
                    "headline": headline,
                    "title": title,
                    "event": event.value,
                    "sanction_kind": sanction_kind or "",
                    "reason": reason if event == ModerationEvent.SANCTION else "",
                    "url": url,
                },
            )
            mail_ids = _fan_out(users, payload)
        mail.deliver_quietly(mail_ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("moderation notifications (%s) failed", event)


def forget_post(post: Post) -> None:
    """In the deleting transaction: notifications about ``post`` disappear, counters follow."""
    affected = list(
        db.session.execute(
            select(Notification.user_id).where(Notification.post_id == post.id).distinct()
        ).scalars()
    )
    if not affected:
        return
    db.session.execute(delete(Notification).where(Notification.post_id == post.id))
    recount(affected)


def recount(user_ids: list[int]) -> None:
    """Set the unread counters of these members from their notifications (in SQL)."""
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(
        update(User).where(User.id.in_(user_ids)).values(unread_notifications=unread)
    )


# -- the notification list --------------------------------------------------------------------


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
        )
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
    )


def group(notifications: list[Notification]) -> list[Group]:
    """Group a page of notifications by (kind, thread, read or not), keeping newest first."""
    groups: list[Group] = []
    index: dict[tuple, Group] = {}
    for item in notifications:
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
    if notification is not None:
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
    if notification.post_id is not None:
        return url_for("discussions.permalink", post_id=notification.post_id)
    if notification.thread_id is not None:
        return url_for("discussions.thread", thread_id=notification.thread_id)
    if notification.session_id is not None:
        return url_for("seminars.session", session_id=notification.session_id)
    if notification.seminar_id is not None:
        return url_for("seminars.seminar", seminar_id=notification.seminar_id)
    return url_for("notifications.index")


# -- preferences and unsubscribe --------------------------------------------------------------


def preferences_of(user: User) -> dict[Kind, Delivery]:
    prefs = _preferences([user.id])
    return {kind: delivery_for(prefs, user.id, kind) for kind in DEFAULT_DELIVERY}


def set_preferences(user: User, choices: dict[str, str]) -> None:
    """:raise Refused: an unknown kind or delivery."""
    try:
        parsed = {Kind(kind): Delivery(value) for kind, value in choices.items()}
    except ValueError:
        raise Refused(_("Choix d'envoi inconnu.")) from None
    for kind, delivery in parsed.items():
        stmt = _insert(MailPreference).values(
            user_id=user.id, kind=kind.value, delivery=delivery.value
        )
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "kind"], set_={"delivery": stmt.excluded.delivery}
            )
        )
    db.session.commit()


def unsubscribe(token: str) -> tuple[User, list[Kind]] | None:
    """Apply a signed unsubscribe link: no login needed. None when the link is not ours."""
    payload = mail.unsign(UNSUBSCRIBE_SALT, token)
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    user_id, kind = payload
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        return None
    if kind == DIGEST:
        current = preferences_of(user)
        kinds = [k for k, delivery in current.items() if delivery == Delivery.DIGEST]
    elif kind in {k.value for k in Kind}:
        kinds = [Kind(kind)]
    else:
        return None
    set_preferences(user, {k.value: Delivery.NEVER.value for k in kinds})
    return user, kinds


# -- daily digest -----------------------------------------------------------------------------


def send_digests(now=None) -> int:
    """Send each member their digest: pending notifications and seminars in the next day.

    Returns the number of digests queued. Meant for a daily cron.
    """
    from forum.seminars.models import Registration, RegistrationStatus, Seminar, SeminarStatus

    now = now or utcnow()
    with write_intent():
        pending = list(
            db.session.execute(
                select(Notification)
                .options(joinedload(Notification.thread), joinedload(Notification.post))
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
            if not (threads or new_threads or seminars_of[user_id]):
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
                    seminars=[
                        (s, mail.external_url("seminars.seminar", seminar_id=s.id))
                        for s in seminars_of[user_id]
                    ],
                )
            )
        for item in pending:
            item.digest_state = "sent"
        db.session.flush()
        ids = [row.id for row in queued]
        db.session.commit()
    mail.deliver(ids)
    return len(ids)


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
