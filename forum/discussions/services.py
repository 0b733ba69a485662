"""Writes on themes, threads and posts: one call, one transaction.

Each service checks, changes rows and counters (in SQL, ``n = n + 1``, never
read-modify-write in Python), commits once, and returns the new object. A
refusal raises :class:`forum.refusals.Refused` (nothing changed) or aborts with
403 through ``ensure``.

Side effects have one place each: the search index and the author's own read
position change inside the transaction, as the rows do. A reply writes its
notifications and mails in its own transaction too (its recipients read before its
first write, :func:`_plan_notices`); a new thread, or a reply that would
mail many members, writes the job that notifies instead (:func:`_notify_after_commit`):
the request runs it once the transaction commits, the worker if the request could not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, bindparam, case, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from forum import content
from forum.accounts.models import User
from forum.db import MAX_ID, after_commit, utcnow
from forum.debate import positions
from forum.discussions.models import (
    MAX_STORED_DEPTH,
    Post,
    PostRevision,
    Theme,
    Thread,
    path_segment,
)
from forum.extensions import db
from forum.moderation import log, screening
from forum.notifications import fanout, mail
from forum.pages.versions import touch
from forum.permissions import Action, can, ensure
from forum.refusals import Refused
from forum.search import services as search

MAX_BODY_LENGTH = 50_000
TITLE_LENGTH = (5, 150)


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII, lower-case, dash-separated: "Développement local" -> "developpement-local"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def check_body(body: str) -> str:
    """The body as stored, or :class:`Refused` with what to fix."""
    if "\x00" in body:
        raise Refused(_("Le texte contient un caractère nul : retirez-le puis réessayez."))
    if not body.strip():
        raise Refused(_("Le message est vide."))
    if len(body) > MAX_BODY_LENGTH:
        raise Refused(
            _(
                "Le message fait %(length)d caractères ; la limite est de %(limit)d.",
                length=len(body),
                limit=MAX_BODY_LENGTH,
            )
        )
    return body


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if "\x00" in title:
        raise Refused(_("Le titre contient un caractère nul : retirez-le puis réessayez."))
    low, high = TITLE_LENGTH
    if not low <= len(title) <= high:
        raise Refused(
            _("Le titre doit faire entre %(low)d et %(high)d caractères.", low=low, high=high)
        )
    return title


#: The same body twice from one author within this delay is refused (a double click, a bot).
REPEAT_WINDOW = timedelta(minutes=5)


def _refuse_repeat(author: User, body: str) -> None:
    """Part of the rate-limit policy: only under ``FORUM_RATE_LIMITS=default``."""
    if current_app.config["FORUM_RATE_LIMITS"] != "default":
        return
    repeated = db.session.execute(
        select(Post.id)
        .where(
            Post.author_id == author.id,
            Post.created_at >= utcnow() - REPEAT_WINDOW,
            Post.body_source == body,
        )
        .limit(1)
    ).scalar()
    if repeated is not None:
        raise Refused(
            _(
                "Vous venez de publier exactement ce message. S'il s'agit d'un double envoi, "
                "il est déjà en ligne ; sinon, modifiez-le un peu."
            )
        )


def _render(body: str) -> dict:
    return {
        "body_source": body,
        "body_html": content.render_markdown(body),
        "render_version": content.RENDER_VERSION,
    }


# The counters every new post moves, built once and run on the tables: building an
# ORM statement and keeping the session's objects in step costs several times more than
# running it, and the commit that follows expires those objects anyway.
_posts, _threads, _themes, _users = (model.__table__ for model in (Post, Thread, Theme, User))
#: The parent's child counter hands out the sibling rank atomically.
_NEXT_RANK = (
    update(_posts)
    .where(_posts.c.id == bindparam("parent"))
    .values(child_count=_posts.c.child_count + 1)
    .returning(_posts.c.child_count)
)
_NEW_POST = insert(_posts).returning(_posts.c.id)
#: Returns the thread's new reply count.
_COUNT_REPLY = (
    update(_threads)
    .where(_threads.c.id == bindparam("thread"))
    .values(
        reply_count=_threads.c.reply_count + 1,
        last_post_at=bindparam("now", type_=DateTime),
        last_post_author_id=bindparam("author"),
    )
    .returning(_threads.c.reply_count)
)
_COUNT_AUTHOR_POST = (
    update(_users)
    .where(_users.c.id == bindparam("author"))
    .values(post_count=_users.c.post_count + 1)
)
#: The author's post count and the unread counts of the members the reply notifies, in
#: one statement: their rows locked in one pass (by id), not the author's first.
_COUNT_AUTHOR_POST_AND_RING = (
    update(_users)
    .where(_users.c.id.in_(bindparam("members", expanding=True)))
    .values(
        post_count=_users.c.post_count + case((_users.c.id == bindparam("author"), 1), else_=0),
        unread_notifications=_users.c.unread_notifications
        + case((_users.c.id.in_(bindparam("recipients", expanding=True)), 1), else_=0),
    )
)
_COUNT_THEME_POST = (
    update(_themes)
    .where(_themes.c.id == bindparam("theme"))
    .values(
        post_count=_themes.c.post_count + 1,
        thread_count=_themes.c.thread_count + bindparam("new_threads"),
        last_post_at=bindparam("now", type_=DateTime),
    )
)


def _count_post(
    author: User, thread: Thread, now, *, new_thread: bool, recipients: Sequence[int] = ()
) -> None:
    """Move the counters a new post moves, in SQL, in the current transaction: the
    author's post count and the ``recipients``' unread counts, then the theme's.

    The rows are locked in one order by every post: the members' (by id, in one
    statement), then the theme's. Two replies that each notified the other's author
    would otherwise deadlock on PostgreSQL, each holding its own author's row and
    waiting for the other's (or for the theme's, held by the other).
    """
    if recipients:
        db.session.execute(
            _COUNT_AUTHOR_POST_AND_RING,
            {
                "members": sorted({author.id, *recipients}),
                "author": author.id,
                "recipients": list(recipients),
            },
        )
    else:
        db.session.execute(_COUNT_AUTHOR_POST, {"author": author.id})
    db.session.execute(
        _COUNT_THEME_POST,
        {"theme": thread.theme_id, "new_threads": 1 if new_thread else 0, "now": now},
    )


_OPENING_POST = select(Post).where(Post.thread_id == bindparam("thread"), Post.parent_id.is_(None))


def opening_post(thread_id: int) -> Post:
    """The post that opens the thread (a statement built once: every reply reads it)."""
    return db.session.execute(_OPENING_POST, {"thread": thread_id}).scalar_one()


_THREAD_AND_OPENING = (
    select(Thread, Post)
    .join(Post, (Post.thread_id == Thread.id) & Post.parent_id.is_(None))
    .where(Thread.id == bindparam("thread"))
)


def thread_and_opening(thread_id: int) -> tuple[Thread, Post] | None:
    """A thread (its theme joined) with its opening post, in one query: what a reply to
    the thread reads before its checks. None when there is no such thread."""
    if not 0 < thread_id <= MAX_ID:
        return None
    return db.session.execute(_THREAD_AND_OPENING, {"thread": thread_id}).first()


def _notify_after_commit(post: Post, *, new_thread: bool = False) -> None:
    """Watchers, mentioned members and the parent's author hear of ``post`` once it commits.

    The job that notifies is written with the post (:func:`fanout.plan_after_post`): the
    request completes it right after the commit, the worker if the request did not.
    """
    job_id = fanout.plan_after_post(post.id, new_thread=new_thread)
    after_commit(fanout.after_post, post, new_thread=new_thread, job_id=job_id)


def _plan_notices(
    author: User, thread: Thread, parent: Post, body: str, body_html: str
) -> fanout.Prepared | None:
    """Before a reply's first write: its notifications and mails, ready to insert.

    None when the job should tell them instead (:func:`_notify_after_commit`): too
    many mails for the reply's transaction, or preparing them failed (a mail that does
    not render is logged; a reply never fails because of its notifications).
    """
    try:
        return fanout.plan_post_notices(author, thread, parent.id, body, body_html)
    except Exception:
        current_app.logger.exception(
            "notifications of a reply in thread %s: left to the job", thread.id
        )
        return None


def create_thread(
    author: User, theme: Theme, title: str, body: str, *, commit: bool = True
) -> Thread:
    """Open a thread in ``theme`` with its opening post; watchers are notified after commit.

    With ``commit=False`` the caller finishes the unit of work (a seminar's
    follow-up thread is linked to its session in the same transaction); the
    notifications wait for the caller's commit all the same.

    :raise Refused: bad title or body.
    :raise 403: ``author`` may not open a thread there.
    """
    ensure(author, Action.THREAD_CREATE, theme)
    title, body = check_title(title), check_body(body)
    verdict = screening.screen(author, theme, body, title=title)
    title, body, pending_at = verdict.title, verdict.body, verdict.pending_at
    _refuse_repeat(author, body)
    rendered = _render(body)
    now = utcnow()
    thread = Thread(
        hidden_at=pending_at,
        theme=theme,
        author_id=author.id,
        title=title,
        slug=slugify(title),
        last_post_at=now,
        last_post_author_id=author.id,
        created_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    post = Post(
        thread_id=thread.id,
        parent_id=None,
        author_id=author.id,
        path="",
        depth=0,
        created_at=now,
        pending_at=pending_at,
        **rendered,
    )
    db.session.add(post)
    db.session.flush()
    search.index_post(post, thread, new=True)
    _count_post(author, thread, now, new_thread=True)
    fanout.record_own_post(post, posts_in_thread=1)
    _notify_after_commit(post, new_thread=True)
    touch(thread=thread)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return thread


def reply(
    author: User,
    thread: Thread,
    body: str,
    parent: Post | None = None,
    *,
    position: str | None = None,
) -> Post:
    """Add a reply to ``parent`` (the opening post when None) in ``thread``.

    Everything that only reads (checks, screening, rendering) comes before the first
    write, so that on SQLite the write lock is held for the writes alone when the view
    reads first (:func:`forum.db.reads_first`).

    ``position``: the reply's stance towards ``parent`` (:mod:`forum.debate.positions`).

    :raise Refused: bad body or position, or a parent that cannot be answered.
    :raise 403: ``author`` may not reply in this thread.
    """
    ensure(author, Action.POST_REPLY, thread)
    body = check_body(body)
    verdict = screening.screen(author, thread.theme, body)
    body, pending_at = verdict.body, verdict.pending_at
    _refuse_repeat(author, body)
    if parent is None:
        parent = opening_post(thread.id)
    if parent.thread_id != thread.id:
        raise Refused(_("Le message auquel vous répondez n'appartient pas à ce fil."))
    if parent.is_deleted:
        raise Refused(_("Ce message a été supprimé : répondez plutôt à un autre message du fil."))
    if not can(author, Action.POST_READ_HIDDEN, parent):
        raise Refused(
            _("Ce message n'est pas visible : répondez plutôt à un autre message du fil.")
        )
    if parent.depth >= MAX_STORED_DEPTH:
        raise Refused(_("Cette branche est trop profonde : répondez à un message plus haut."))
    position = positions.checked(author.id, parent, position)
    rendered = _render(body)
    notices = _plan_notices(author, thread, parent, body, rendered["body_html"])

    rank = db.session.execute(_NEXT_RANK, {"parent": parent.id}).scalar_one()
    now = utcnow()
    values = {
        "thread_id": thread.id,
        "parent_id": parent.id,
        "author_id": author.id,
        "path": parent.path + path_segment(rank),
        "depth": parent.depth + 1,
        "created_at": now,
        "pending_at": pending_at,
        "position": position,
        **rendered,
    }
    # Inserted on the table, then handed to the session as the row it is: the unit of
    # work's flush would cost several times the INSERT (columns left to their defaults
    # are read from the row if asked for).
    post = Post(id=db.session.execute(_NEW_POST, values).scalar_one(), **values)
    make_transient_to_detached(post)
    db.session.add(post)
    search.index_post(post, thread, new=True)
    replies = db.session.execute(
        _COUNT_REPLY, {"thread": thread.id, "now": now, "author": author.id}
    ).scalar_one()
    fanout.record_own_post(post, posts_in_thread=replies + 1)
    if notices is None:
        _notify_after_commit(post)
        to_log, notified = [], ()
    else:
        to_log = fanout.write_post_notices(notices, post.id)  # their counters: below
        notified = notices.ids
    _count_post(author, thread, now, new_thread=False, recipients=notified)
    post_id = post.id
    touch(thread=thread)
    db.session.commit()
    mail.log_sent(to_log)  # no mail server: stored sent, to the log (else the worker sends)
    # Their commits expired ``post``: its id is known, so reading it back costs no query
    # (the view redirects to it); any other attribute is loaded again when read.
    set_committed_value(post, "id", post_id)
    return post


def edit_post(
    editor: User, post: Post, body: str, reason: str = "", *, position: str | None = None
) -> Post:
    """Replace a post's body, keeping the previous one as a revision.

    ``position``: a new stance towards the post answered ("" for none; None keeps it).

    :raise Refused: bad body, reason or position.
    :raise 403: ``editor`` may not edit this post.
    """
    ensure(editor, Action.POST_EDIT, post)
    body = check_body(body)
    if "\x00" in reason:
        raise Refused(_("La raison contient un caractère nul : retirez-le puis réessayez."))
    by_moderator = editor.id != post.author_id
    if by_moderator and len(reason.strip()) < 3:
        raise Refused(
            _(
                "Vous modifiez le message de quelqu'un d'autre : indiquez la raison de la modification."
            )
        )
    verdict = screening.screen(editor, None, body)
    body = verdict.body
    if position is not None:
        parent = db.session.get(Post, post.parent_id) if post.parent_id else None
        position = positions.checked(post.author_id, parent, position)
        if position != post.position:
            post.position = position
            if body == post.body_source:
                db.session.commit()
    if body == post.body_source:
        return post
    rendered = _render(body)
    now = utcnow()
    if verdict.pending_at is not None:
        screening.hold(post, verdict.pending_at)
    if by_moderator:
        log.record(
            editor,
            "post:edit",
            user_id=post.author_id,
            theme_id=post.thread.theme_id,
            thread_id=post.thread_id,
            post_id=post.id,
            reason=reason.strip(),
            revision_of=post.edit_count,
        )
    db.session.add(
        PostRevision(
            post_id=post.id,
            editor_id=editor.id,
            body_source=post.body_source,
            body_html=post.body_html,
            written_at=post.edited_at or post.created_at,
            replaced_at=now,
            reason=reason.strip()[:300],
        )
    )
    for key, value in rendered.items():
        setattr(post, key, value)
    post.edited_at = now
    post.edit_count = Post.edit_count + 1
    search.index_post(post, post.thread)
    touch(thread=post.thread)
    db.session.commit()
    return post


def delete_post(actor: User, post: Post) -> Post:
    """Delete softly: the post keeps its place in the tree as a placeholder.

    The text stays in the row for moderators. Deleting the opening post leaves
    the thread and its replies readable.

    :raise 403: ``actor`` may not delete this post.
    """
    ensure(actor, Action.POST_DELETE, post)
    post.deleted_at = utcnow()
    post.deleted_by_id = actor.id
    search.unindex_post(post)
    fanout.forget_post(post)
    touch(thread=post.thread)
    db.session.commit()
    return post


def rerender_stale(batch_size: int = 500) -> int:
    """Render again every post whose render version is older than the current one."""
    done = 0
    while True:
        posts = (
            db.session.execute(
                select(Post)
                .where(Post.render_version < content.RENDER_VERSION)
                .order_by(Post.id)
                .limit(batch_size)
            )
            .scalars()
            .all()
        )
        if not posts:
            return done
        for post in posts:
            # Stored bodies are re-rendered as they are, even beyond today's limits.
            post.body_html = content.render_markdown(post.body_source, checked=False)
            post.render_version = content.RENDER_VERSION
        touch(site=True)
        db.session.commit()
        done += len(posts)


# -- themes ---------------------------------------------------------------------------------


def save_theme(
    actor: User,
    theme: Theme | None,
    *,
    name: str,
    slug: str,
    description: str,
    position: int,
    archived: bool,
) -> Theme:
    """Create (``theme`` None) or update a theme.

    :raise Refused: a blank name, a NUL byte, a slug already taken or empty.
    :raise 403: ``actor`` is not an admin.
    """
    ensure(actor, Action.THEME_MANAGE, theme)
    if "\x00" in name + description:
        raise Refused(_("Le texte contient un caractère nul : retirez-le puis réessayez."))
    name = " ".join(name.split())
    if len(name) < 2:
        raise Refused(_("Le nom du thème doit faire au moins 2 caractères."))
    slug = slugify(slug or name, max_length=60)
    if not slug:
        raise Refused(_("L'adresse du thème doit contenir au moins une lettre ou un chiffre."))
    taken = db.session.execute(select(Theme.id).where(Theme.slug == slug)).scalar()
    if taken is not None and (theme is None or taken != theme.id):
        raise Refused(_("L'adresse « %(slug)s » est déjà prise par un autre thème.", slug=slug))
    if theme is None:
        theme = Theme()
        db.session.add(theme)
    theme.name = name
    theme.slug = slug
    theme.description = description.strip()
    theme.position = position
    if archived and theme.archived_at is None:
        theme.archived_at = utcnow()
    elif not archived:
        theme.archived_at = None
    touch(site=True)  # its name is on every page of its threads
    db.session.commit()
    return theme
