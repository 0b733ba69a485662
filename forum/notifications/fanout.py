"""Fan-out: who learns of a post, a seminar change, a moderation act, a directory
event or a reaction, and how.

Everything goes through the transactional outbox. A reply writes its notifications
and mails in its own transaction (:func:`plan_post_notices` reads and renders before
its first write, :func:`write_post_notices` inserts them). Other events write, in
their own transaction, the job that notifies of them (:func:`plan_after_post` for a
new thread or a reply with many mails; through :func:`forum.jobs.services.enqueue_soon`:
:func:`notify_seminar`, :func:`notify_moderation`, :func:`notify_directory` for
contact requests and mediation, :func:`forum.directory.notify.new_matches` for a new
offer's followers, :func:`notify_reaction` for a post's author at most once an hour,
and :func:`forum.notifications.messages.notify_message` for private conversations);
right after the commit the request runs that job and completes it in the same
transaction as the notifications, and should it not, the worker does. An error there
is logged and swallowed: a post or an act never fails or waits because of them (the
author's own read position and watch, :func:`record_own_post`, belong to the post's
transaction). Expired contact requests are told in the expiry's own transaction
(:func:`directory_notices`). No notice waits for its own transaction after a change's
commit. Fan-out costs a fixed number of queries whatever the
number of recipients: one query for the recipients of every source with their
rows, one for their preferences, one bulk insert, one counter update, one
outbox insert; the reads and the rendering come before the first write.
Recipients who may not see the content are dropped
(:func:`forum.permissions.can`), and listings filter through
:func:`forum.permissions.visible_posts` again when shown.
"""

from __future__ import annotations

import functools
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DateTime,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    union_all,
    update,
)

from forum import content
from forum.accounts.models import User
from forum.db import reads_first, utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.jobs import services as jobs
from forum.notifications import mail
from forum.notifications.models import (
    Delivery,
    DirectoryEvent,
    Kind,
    Level,
    MailPreference,
    ModerationEvent,
    Notification,
    SeminarEvent,
    ThemeWatch,
    ThreadState,
)
from forum.notifications.preferences import _preferences, delivery_for, unsubscribe_url
from forum.permissions import Action, can

#: Priority when one post concerns a member several ways: the first kind wins.
PRIORITY = (Kind.MENTION, Kind.REPLY, Kind.WATCHED_POST, Kind.NEW_THREAD)


@dataclass
class Event:
    """One thing to tell several members: what each notification row and mail carries."""

    kind_of: dict[int, Kind]
    fields: dict = field(default_factory=dict)
    event: str | None = None
    mail: dict = field(default_factory=dict)


# Built once and run on the tables: every reply that notifies someone runs them, and
# building an ORM statement costs more than running it (the commit expires the objects).
_notifications, _users = Notification.__table__, User.__table__
_prefs = MailPreference.__table__
_NOTIFY = insert(_notifications).inline()  # no RETURNING of the ids, which nobody reads
_RING = (
    update(_users)
    .where(_users.c.id.in_(bindparam("recipients", expanding=True)))
    .values(unread_notifications=_users.c.unread_notifications + 1)
)


#: The job that notifies of a post (:func:`plan_after_post`).
AFTER_POST_JOB = "notifications.after_post"


def _fan_out(
    users: list[User], event: Event, *, commit: bool = True, prefs: dict | None = None
) -> list[int]:
    """Insert the notifications, move the counters, queue the immediate mails, commit.

    Returns the ids of the queued mails (to send after commit). ``commit=False``: the
    caller commits (a job commits them with its completion). ``prefs``: the recipients'
    mail preferences, when read already.
    """
    if not users:
        return []
    return _write_notices(_prepare_notices(users, event, prefs), commit=commit)


@dataclass
class Prepared:
    """Notifications and mails ready to insert: rows, rendered mails, recipients' ids."""

    rows: list[dict]
    outbox: list[dict]
    ids: list[int]


def _prepare_notices(users: list[User], event: Event, prefs: dict | None = None) -> Prepared:
    """The rows and the rendered mails of a fan-out: no write (reads the preferences when
    not given)."""
    now = utcnow()
    ids = [user.id for user in users]
    if prefs is None:
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
    return Prepared(rows, outbox, ids)


def _write_notices(prepared: Prepared, *, commit: bool = False) -> list[int]:
    """Insert prepared notifications, move the counters, queue the mails; their ids."""
    if not prepared.rows:
        return []
    db.session.execute(_NOTIFY, prepared.rows)
    db.session.execute(_RING, {"recipients": prepared.ids})
    mail_ids = mail.queue_rows(prepared.outbox)
    if commit:
        db.session.commit()
    return mail_ids


def _insert_notices(prepared: Prepared) -> list[dict]:
    """Insert prepared notifications and queue the mails, in the caller's transaction
    (which moves the unread counters); returns the mails to log after its commit (no
    mail server)."""
    if not prepared.rows:
        return []
    db.session.execute(_NOTIFY, prepared.rows)
    return mail.queue_rows_logged(prepared.outbox)


def _notification_mail(user: User, kind: Kind, event: Event) -> dict:
    with force_locale(user.locale or "fr"):
        subject = _subject(kind, event)
    context = dict(event.mail)
    if kind in (Kind.MODERATION, Kind.DIRECTORY):
        context["headline"] = subject  # in the member's language
    if kind == Kind.DIRECTORY:
        context["title"] = subject
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
    if kind == Kind.DIRECTORY and "about" in event.mail:
        return directory_headline(event.event, event.mail["about"])
    return event.mail.get("headline", title)


#: The line naming a directory event, around the offer's title or the request's subject.
_DIRECTORY_HEADLINES = {
    DirectoryEvent.MATCH: _l("Nouvelle correspondance : « %(subject)s »"),
    DirectoryEvent.CONTACT_NEW: _l("Nouvelle demande de mise en relation : « %(subject)s »"),
    DirectoryEvent.CONTACT_ACCEPTED: _l("Mise en relation acceptée : « %(subject)s »"),
    DirectoryEvent.CONTACT_DECLINED: _l("Mise en relation déclinée : « %(subject)s »"),
    DirectoryEvent.CONTACT_EXPIRED: _l("Mise en relation expirée sans réponse : « %(subject)s »"),
    DirectoryEvent.MEDIATION_TAKEN: _l("Une médiation commence : « %(subject)s »"),
    DirectoryEvent.MEDIATION_CLOSED: _l("Médiation close : « %(subject)s »"),
}


def directory_headline(event: str, subject: str) -> str:
    """The subject line (and headline) of a directory mail, in the current language."""
    return str(_DIRECTORY_HEADLINES[DirectoryEvent(event)]) % {"subject": subject}


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
    # Their mail preferences with them (a row per preference set): no second query.
    return (
        select(User, rows.c.source, _prefs.c.kind, _prefs.c.delivery)
        .join(rows, User.id == rows.c.user_id)
        .outerjoin(_prefs, _prefs.c.user_id == User.id)
    )


def _recipients_of(
    post: Post, thread: Thread, new_thread: bool
) -> tuple[dict[int, Kind], list[User], dict[tuple[int, str], str]]:
    """Who hears of ``post`` and how, their rows and their mail preferences (as
    :func:`~forum.notifications.preferences._preferences` gives them): one query whatever
    their number.

    Mentioned members, the parent's author, the thread's watchers and, for a new
    thread, the theme's watchers; never the author, never a member who muted the thread.
    """
    from forum.accounts.services import username_key

    keys = sorted({username_key(name) for name in content.mentioned_usernames(post.body_source)})
    query = _recipients_query(bool(keys), post.parent_id is not None, new_thread)
    params = {"thread": thread.id, "keys": keys, "parent": post.parent_id, "theme": thread.theme_id}
    kinds: dict[int, set[Kind]] = defaultdict(set)
    muted, users, prefs = set(), {}, {}
    for user, source, pref_kind, delivery in db.session.execute(query, params):
        users[user.id] = user
        if pref_kind is not None:
            prefs[user.id, pref_kind] = delivery
        if source == _MUTED:
            muted.add(user.id)
        else:
            kinds[user.id].add(_SOURCES[source])
    kind_of = {
        user_id: next(kind for kind in PRIORITY if kind in found)
        for user_id, found in kinds.items()
        if user_id != post.author_id and user_id not in muted
    }
    return kind_of, [users[user_id] for user_id in kind_of], prefs


#: A post with its thread (theme joined) and its author, in one query built once.
_POST_THREAD_AUTHOR = (
    select(Post, Thread, User)
    .join(Post.thread)
    .join(User, User.id == Post.author_id)
    .where(Post.id == bindparam("post"))
)


def plan_after_post(post_id: int, *, new_thread: bool = False) -> int:
    """In the post's own transaction: the job that notifies of it; returns its id.

    :func:`after_post` does the work right after the commit and completes the job in
    the same transaction as the notifications; should it not (the process died, the
    post was never notified), the worker runs the job once its time comes
    (``FORUM_WORKER_LEASE`` seconds later). Either way the notifications and mails of
    a post are written once, and never lost once the post is committed.
    """
    later = utcnow() + timedelta(seconds=current_app.config["FORUM_WORKER_LEASE"])
    return jobs.enqueue(
        AFTER_POST_JOB, {"post_id": post_id, "new_thread": new_thread}, run_at=later
    )


#: A reply mails at most this many members from its own transaction (their mails are
#: rendered while SQLite's write lock is held); more, and the job tells them after the
#: commit (:func:`plan_after_post`), rendering outside the lock.
INLINE_MAILS = 10


#: Stands for a reply's link in its mails, rendered before the reply has an id
#: (:func:`plan_post_notices`); :func:`write_post_notices` puts the link in its place.
POST_LINK_SLOT = f"forum-post-link-{secrets.token_hex(8)}"


def plan_post_notices(
    author: User, thread: Thread, parent_id: int | None, body_source: str, body_html: str
) -> Prepared | None:
    """Before a reply's first write: its notifications and mails, rendered (no write).

    Reads its recipients and their preferences, renders their mails with
    :data:`POST_LINK_SLOT` for the reply's link: on SQLite all of it happens before the
    write lock is taken. None when they would get more than :data:`INLINE_MAILS` mails
    at once: the reply then writes the job instead (:func:`plan_after_post`).
    """
    probe = SimpleNamespace(author_id=author.id, parent_id=parent_id, body_source=body_source)
    kind_of, candidates, prefs = _recipients_of(probe, thread, False)
    users = [user for user in candidates if can(user, Action.THREAD_VIEW, thread)]
    if not users:
        return Prepared([], [], [])
    mails = sum(
        1
        for user in users
        if user.email and delivery_for(prefs, user.id, kind_of[user.id]) == Delivery.IMMEDIATELY
    )
    if mails > INLINE_MAILS:
        return None
    event = Event(
        kind_of=kind_of,
        fields={"actor_id": author.id, "thread_id": thread.id, "post_id": None},
        mail={
            "actor_name": author.username,
            "title": thread.title,
            "excerpt": content.plain_text(body_html, 500),
            "url": POST_LINK_SLOT,
        },
    )
    return _prepare_notices(users, event, prefs)


def write_post_notices(prepared: Prepared, post_id: int) -> list[dict]:
    """In the reply's transaction, once it has an id: its notifications and its mails
    (their link put in place); the reply moves the unread counters of ``prepared.ids``
    with its author's (:func:`forum.discussions.services._count_post`). Returns the
    mails to write to the log after the commit when there is no mail server
    (:func:`forum.notifications.mail.log_sent`)."""
    if not prepared.rows:
        return []
    link = mail.external_url("discussions.permalink", post_id=post_id)
    for row in prepared.rows:
        row["post_id"] = post_id
    for queued in prepared.outbox:
        queued["text_body"] = queued["text_body"].replace(POST_LINK_SLOT, link)
        queued["html_body"] = queued["html_body"].replace(POST_LINK_SLOT, link)
    return _insert_notices(prepared)


def _notify_post(post_id: int, new_thread: bool, *, commit: bool) -> tuple[bool, list[int]]:
    """Fan out a committed post's notifications: (anything written, ids of mails queued)."""
    found = db.session.execute(_POST_THREAD_AUTHOR, {"post": post_id}).first()
    if found is None:
        return False, []
    post, thread, author = found
    kind_of, candidates, prefs = _recipients_of(post, thread, new_thread)
    users = [user for user in candidates if can(user, Action.THREAD_VIEW, thread)]
    if not users:
        return False, []
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
    return True, _fan_out(users, event, commit=commit, prefs=prefs)


def after_post(post: Post, *, new_thread: bool = False, job_id: int | None = None) -> None:
    """Notify who should learn of ``post`` (committed already). Never raises.

    Reads and renders first, then writes every row in one short transaction (on
    SQLite the write lock is taken at the first insert, :func:`forum.db.reads_first`).
    With ``job_id`` (:func:`plan_after_post`), that transaction also completes the job,
    unless a worker took it already: then the worker notifies, and this writes nothing.
    """
    post_id = inspect(post).identity[0]  # the commit expired ``post``: no reload for its id
    try:
        with reads_first():
            _wrote, mail_ids = _notify_post(post_id, new_thread, commit=job_id is None)
            if job_id is not None:  # even with no one to tell: later, others would be
                if jobs.complete(job_id):
                    db.session.commit()
                else:
                    db.session.rollback()
                    mail_ids = []
        mail.deliver_quietly(mail_ids)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("notifications for post %s failed", post_id)


@jobs.handler(AFTER_POST_JOB)
def _after_post_job(payload: dict) -> None:
    """The worker's turn: the request that wrote the post did not complete the job."""
    _notify_post(payload["post_id"], payload.get("new_thread", False), commit=False)


SEMINAR_SUBJECTS = {
    SeminarEvent.FOLLOW_UP: "La discussion continue : « %(title)s »",
    SeminarEvent.MINUTES: "Compte rendu publié : « %(title)s »",
    SeminarEvent.PROMOTED: "Votre inscription est confirmée : « %(title)s »",
    SeminarEvent.CANCELLED: "Séminaire annulé : « %(title)s »",
}


#: The jobs that tell registrants and members of the moderation's acts.
SEMINAR_JOB = "notifications.seminar"
MODERATION_JOB = "notifications.moderation"


def _recipients(user_ids: Iterable[int | None]) -> list[int]:
    """Each account once, in id order; ``None`` (an account gone) left out."""
    return sorted({user_id for user_id in user_ids if user_id is not None})


def _enqueue_for(kind: str, user_ids: Iterable[int | None], payload: dict) -> int | None:
    """The job ``kind`` telling ``user_ids`` of ``payload``, in the caller's transaction
    (:func:`forum.jobs.services.enqueue_soon`); None when there is nobody to tell."""
    ids = _recipients(user_ids)
    if not ids:
        return None
    return jobs.enqueue_soon(kind, {"user_ids": ids, **payload})


def notify_seminar(
    user_ids: list[int],
    event: SeminarEvent,
    *,
    seminar,
    session=None,
    thread: Thread | None = None,
) -> int | None:
    """In the organiser's transaction: tell registrants about their seminar.

    Writes the job that notifies them (:func:`forum.jobs.services.enqueue_soon`): it
    commits with the change, runs right after the commit (the worker runs it if the
    request could not), and writes the notifications and mails once. Returns the job's
    id (None: nobody to tell).
    """
    return _enqueue_for(
        SEMINAR_JOB,
        user_ids,
        {
            "event": SeminarEvent(event).value,
            "seminar_id": seminar.id,
            "session_id": session.id if session is not None else None,
            "thread_id": thread.id if thread is not None else None,
        },
    )


@jobs.handler(SEMINAR_JOB)
def _seminar_job(payload: dict) -> list[int]:
    """Notify the registrants of a seminar's event (reads, then writes; the caller commits)."""
    from forum.seminars.models import Seminar, Session

    event = SeminarEvent(payload["event"])
    seminar = db.session.get(Seminar, payload["seminar_id"])
    session = db.session.get(Session, payload["session_id"]) if payload["session_id"] else None
    thread = db.session.get(Thread, payload["thread_id"]) if payload["thread_id"] else None
    if seminar is None:
        return []
    users = list(db.session.execute(select(User).where(User.id.in_(payload["user_ids"]))).scalars())
    if thread is not None:
        users = [user for user in users if can(user, Action.THREAD_VIEW, thread)]
        url = mail.external_url("discussions.thread", thread_id=thread.id)
        title = thread.title
    elif session is not None:
        url = mail.external_url("seminars.session", session_id=session.id)
        title = session.title
    else:
        url = mail.external_url("seminars.seminar", seminar_id=seminar.id)
        title = seminar.title
    subject = _(SEMINAR_SUBJECTS[event], title=title)
    return _fan_out(
        users,
        Event(
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
        ),
        commit=False,
    )


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
    if event == ModerationEvent.THREAD_LOCKED:
        return _("Votre fil « %(title)s » a été verrouillé par la modération", title=title)
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
) -> int | None:
    """In the moderation's transaction: tell members what it decided about them.

    Writes the job that notifies them (:func:`forum.jobs.services.enqueue_soon`): it
    commits with the act, runs right after the commit (the worker runs it if the
    request could not), and writes the notifications and mails once. Returns the job's
    id (None: nobody to tell).

    The notification names the thread and the act, never the post's text. ``post``:
    the post concerned (its author is told; the link shows them the post and the
    reason). Reporters (``report_handled``) and sanctioned members get no link to the
    content. ``reason``: the moderator's reason, mailed with a sanction only.
    """
    return _enqueue_for(
        MODERATION_JOB,
        user_ids,
        {
            "event": ModerationEvent(event).value,
            "post_id": post.id if post is not None else None,
            "thread_id": thread.id if thread is not None else None,
            "sanction_kind": sanction_kind,
            "reason": reason,
        },
    )


@jobs.handler(MODERATION_JOB)
def _moderation_job(payload: dict) -> list[int]:
    """Notify members of a moderation act (reads, then writes; the caller commits)."""
    event = ModerationEvent(payload["event"])
    post_id, thread_id = payload["post_id"], payload["thread_id"]
    sanction_kind, reason = payload["sanction_kind"], payload["reason"]
    users = list(db.session.execute(select(User).where(User.id.in_(payload["user_ids"]))).scalars())
    if post_id is not None and thread_id is None:
        thread_id = db.session.execute(select(Post.thread_id).where(Post.id == post_id)).scalar()
    title = ""
    if thread_id is not None:
        title = (
            db.session.execute(select(Thread.title).where(Thread.id == thread_id)).scalar() or ""
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
    return _fan_out(
        users,
        Event(
            kind_of={user.id: Kind.MODERATION for user in users},
            event=event.value,
            fields=fields,
            mail={
                "headline": headline,
                "title": title,
                "event": event.value,
                "sanction_kind": sanction_kind or "",
                "reason": reason
                if event in (ModerationEvent.SANCTION, ModerationEvent.THREAD_LOCKED)
                else "",
                "url": url,
            },
        ),
        commit=False,
    )


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


#: The jobs that tell members of the directory's events and authors of reactions.
DIRECTORY_JOB = "notifications.directory"
REACTION_JOB = "notifications.reaction"


def notify_directory(
    user_ids: list[int],
    event: str,
    *,
    subject: str,
    url: str,
    offer_id: int | None = None,
    contact_request_id: int | None = None,
) -> int | None:
    """In the directory's transaction: tell members what happened there.

    Writes the job that notifies them (:func:`forum.jobs.services.enqueue_soon`): it
    commits with the change, runs right after the commit (the worker runs it if the
    request could not), and writes the notifications and mails once. Returns the job's
    id (None: nobody to tell).

    ``subject`` (the offer's title or the request's subject: the mail names the event
    around it in each recipient's language, :func:`directory_headline`) and ``url``
    (external) go into the mail; the notification keeps the offer or the contact
    request it is about.
    """
    return _enqueue_for(
        DIRECTORY_JOB,
        user_ids,
        {
            "event": event,
            "subject": subject,
            "url": url,
            "offer_id": offer_id,
            "contact_request_id": contact_request_id,
        },
    )


@jobs.handler(DIRECTORY_JOB)
def _directory_job(payload: dict) -> list[int]:
    """Notify members of a directory event (reads, then writes; the caller commits).

    A job written before subjects were named in each language holds the whole line,
    in French (``headline``): it is mailed as it is."""
    return directory_notices(
        payload["user_ids"],
        payload["event"],
        subject=payload.get("subject"),
        headline=payload.get("headline"),
        url=payload["url"],
        offer_id=payload["offer_id"],
        contact_request_id=payload["contact_request_id"],
    )


def directory_notices(
    user_ids: list[int],
    event: str,
    *,
    subject: str | None,
    url: str,
    offer_id: int | None = None,
    contact_request_id: int | None = None,
    headline: str | None = None,
) -> list[int]:
    """:func:`notify_directory` in the current transaction (the caller commits); returns
    the ids of the mails queued. ``headline``: a job's whole line, when it holds no
    ``subject``."""
    ids = _recipients(user_ids)
    if not ids:
        return []
    users = list(db.session.execute(select(User).where(User.id.in_(ids))).scalars())
    payload = Event(
        kind_of={user.id: Kind.DIRECTORY for user in users},
        event=event,
        fields={"offer_id": offer_id, "contact_request_id": contact_request_id},
        mail={"event": event, "url": url}
        | ({"about": subject} if subject is not None else {"headline": headline}),
    )
    return _fan_out(users, payload, commit=False)


#: A post's author hears of reactions to it at most once in this delay.
REACTION_NOTICE_EVERY = timedelta(hours=1)


_RECENT_REACTION_NOTICE = (
    select(Notification.id)
    .where(
        Notification.post_id == bindparam("post"),
        Notification.user_id == bindparam("author"),
        Notification.kind == Kind.REACTION.value,
        Notification.created_at >= bindparam("since", type_=DateTime),
    )
    .limit(1)
)


def _told_of_reactions_lately(post_id: int, author_id: int) -> bool:
    since = utcnow() - REACTION_NOTICE_EVERY
    found = db.session.execute(
        _RECENT_REACTION_NOTICE, {"post": post_id, "author": author_id, "since": since}
    ).scalar()
    return found is not None


def notify_reaction(post: Post, actor: User) -> int | None:
    """In the reaction's transaction: tell ``post``'s author that ``actor`` reacted to it.

    At most one notification per post and hour: the reactions that follow within the
    hour are counted on the post, not rung again (no job is written for them). Else
    writes the job that notifies the author (:func:`forum.jobs.services.enqueue_soon`):
    it commits with the reaction, runs right after the commit (the worker runs it if
    the request could not), and checks the hour again. Returns the job's id, or None.
    """
    if post.author_id is None or post.author_id == actor.id:
        return None
    if _told_of_reactions_lately(post.id, post.author_id):
        return None
    return jobs.enqueue_soon(REACTION_JOB, {"post_id": post.id, "actor_id": actor.id})


@jobs.handler(REACTION_JOB)
def _reaction_job(payload: dict) -> list[int]:
    """Notify a post's author of a reaction, unless told within the hour (the caller
    commits)."""
    found = db.session.execute(_POST_THREAD_AUTHOR, {"post": payload["post_id"]}).first()
    actor = db.session.get(User, payload["actor_id"])
    if found is None or actor is None:
        return []
    post, thread, author = found
    if _told_of_reactions_lately(post.id, author.id):
        return []  # another reaction of the hour told them already
    if not can(author, Action.THREAD_VIEW, thread):
        return []
    with force_locale(author.locale or "fr"):
        headline = _(
            "%(actor)s a réagi à votre message dans « %(title)s »",
            actor=actor.username,
            title=thread.title,
        )
    event = Event(
        kind_of={author.id: Kind.REACTION},
        fields={"actor_id": actor.id, "thread_id": thread.id, "post_id": post.id},
        mail={
            "headline": headline,
            "title": thread.title,
            "actor_name": actor.username,
            "url": mail.external_url("discussions.permalink", post_id=post.id),
        },
    )
    return _fan_out([author], event, commit=False)
