"""Home, theme pages, thread and branch pages, and the forms that write posts."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, and_, bindparam, null, select
from sqlalchemy.orm import joinedload

from forum import content
from forum.db import MAX_ID, reads_first, retry_on_deadlock
from forum.debate import queries as debate
from forum.debate.models import Poll, Synthesis
from forum.discussions import services, tree
from forum.discussions.forms import ConfirmForm, EditForm, ReplyForm, ThreadForm
from forum.discussions.models import SEGMENT_WIDTH, Post, PostRevision, Theme, Thread
from forum.extensions import db, get_or_none
from forum.forms import form_page
from forum.moderation import limits
from forum.news.queries import published as published_news
from forum.notifications import reading, watching
from forum.notifications.models import ThreadState
from forum.pagination import paginate, parse_page
from forum.permissions import Action, ThreadRights, can, ensure, visible_threads
from forum.refusals import Refused
from forum.seminars import services as seminars
from forum.seminars.models import SessionThread

bp = Blueprint("discussions", __name__)


def _theme_or_404(slug: str) -> Theme:
    theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar()
    if theme is None:
        abort(404)
    return theme


def _post_or_404(post_id: int) -> Post:
    post = get_or_none(Post, post_id, options=[joinedload(Post.thread)])
    if post is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, post.thread)
    return post


def _listing():
    return visible_threads(select(Thread), current_user).options(
        joinedload(Thread.author), joinedload(Thread.last_post_author)
    )


@bp.route("/")
def home():
    themes = db.session.execute(
        select(Theme).where(Theme.archived_at.is_(None)).order_by(Theme.position, Theme.name)
    ).scalars()
    latest = db.session.execute(_listing().order_by(Thread.last_post_at.desc()).limit(10))
    news = db.session.execute(published_news(current_user).limit(3)).scalars()
    return render_template(
        "discussions/home.html",
        themes=list(themes),
        latest=list(latest.scalars()),
        next_seminar=seminars.next_seminar(),
        follow_ups=seminars.follow_ups_for(current_user),
        news=list(news),
    )


@bp.route("/themes/<slug>")
def theme(slug: str):
    theme = _theme_or_404(slug)
    order = (Thread.pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
    page = paginate(
        _listing().where(Thread.theme_id == theme.id).order_by(*order),
        parse_page(request.args.get("page")),
        current_app.config["FORUM_THREADS_PER_PAGE"],
        total=theme.thread_count,
        # Deep pages count their offset on ix_threads_theme_visible alone (for readers
        # who see no hidden thread), not on rows joined to their authors.
        keys=visible_threads(select(Thread.id), current_user)
        .where(Thread.theme_id == theme.id)
        .order_by(*order),
    )
    user = current_user
    return render_template(
        "discussions/theme.html",
        theme=theme,
        page=page,
        read_states=watching.states_for(user, [t.id for t in page.items])
        if user.is_authenticated
        else None,
        watching=watching.watches_theme(user, theme),
    )


@bp.route("/themes/<slug>/new", methods=["GET", "POST"])
@limits.post
@limits.thread
@login_required
def new_thread(slug: str):
    theme = _theme_or_404(slug)
    ensure(current_user, Action.THREAD_CREATE, theme)
    form = ThreadForm()
    if form.validate_on_submit():
        try:
            thread = retry_on_deadlock(
                services.create_thread, current_user, theme, form.title.data, form.body.data
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            return redirect(url_for(".thread", thread_id=thread.id))
    return form_page("discussions/new_thread.html", form, theme=theme)


@dataclass(frozen=True)
class _Surroundings:
    """The reader's read state of a thread, and whether the thread has what its page
    shows around the posts; each of those is then looked up only if it is there."""

    state: ThreadState | None
    session_links: bool
    splits: bool
    polls_or_synthesis: bool


@functools.cache
def _surroundings_query(member: bool) -> Select:
    """The statement of :func:`_thread_and_surroundings`, built once (for a member or
    not): building it on each page cost as much as running it."""
    thread_id = bindparam("thread_id")
    flags = (
        select(SessionThread.id).where(SessionThread.thread_id == thread_id).exists(),
        select(Thread.id).where(Thread.split_from_id == thread_id).exists(),
        select(Poll.id).where(Poll.thread_id == thread_id).exists()
        | select(Synthesis.id).where(Synthesis.thread_id == thread_id).exists(),
    )
    if member:
        stmt = select(Thread, ThreadState, *flags).outerjoin(
            ThreadState,
            and_(ThreadState.thread_id == Thread.id, ThreadState.user_id == bindparam("user_id")),
        )
    else:
        stmt = select(Thread, null(), *flags)
    return stmt.where(Thread.id == thread_id)


def _thread_and_surroundings(thread_id: int) -> tuple[Thread | None, _Surroundings | None]:
    """The thread and its :class:`_Surroundings`, in one query: most threads have no
    seminar session, split, poll nor synthesis, and their page then runs none of the
    four queries that would find them. ``(None, None)``: no such thread."""
    if not 0 < thread_id <= MAX_ID:
        return None, None
    member = current_user.is_authenticated
    row = db.session.execute(
        _surroundings_query(member),
        {"thread_id": thread_id, "user_id": current_user.id if member else None},
    ).one_or_none()
    if row is None:
        return None, None
    thread, *found = row
    return thread, _Surroundings(*found)


def _render_view(thread: Thread, root: Post, around: _Surroundings, *, branch: bool):
    """The thread or branch page; then the member's read position moves (one write at most)."""
    config = current_app.config
    state = around.state
    page, forest = tree.load_view(
        root,
        parse_page(request.args.get("page")),
        max_depth=config["FORUM_MAX_DEPTH"],
        per_page=config["FORUM_POSTS_PER_PAGE"],
        size_hint=None if branch else thread.reply_count + 1,
    )
    arguments_only = request.args.get("arguments") == "1"
    if arguments_only:
        forest = debate.arguments_only(forest)
    new_after = state.last_read_post_id if state is not None else None
    rights = ThreadRights(current_user, thread)
    debate_view = debate.page_view(
        thread,
        page.items,
        current_user,
        rights,
        branch=branch,
        extras=around.polls_or_synthesis,
    )
    unread_here = [p.id for p in page.items if new_after is not None and p.id > new_after]
    order = tree.reading_order(forest, rights.shows)
    html = render_template(
        "discussions/thread.html",
        thread=thread,
        read_state=state,
        new_after=new_after,
        first_unread=min(unread_here) if unread_here else None,
        rights=rights,
        root=root,
        branch=branch,
        above=tree.ancestors(root) if branch else [],
        page=page,
        reading_order=order,
        # Only where the page shows it: a form makes a CSRF token, hence a session cookie.
        reply_form=ReplyForm(formdata=None) if rights.replies and not branch else None,
        session_links=seminars.links_for_thread(thread.id) if around.session_links else [],
        split_links=_split_links(thread) if around.splits or thread.split_from_id else [],
        debate=debate_view,
        arguments_only=arguments_only,
    )
    whole = not branch and page.number == 1 and not page.has_next
    reading.record_read(current_user, thread, page.items, state, whole=whole)
    # The template's context is a reference cycle (the macros imported "with context"
    # refer to it), freed only by the next garbage collection: emptied, the page's lists
    # let their hundreds of posts and nodes go now, and the collector finds little left.
    order.clear()
    page.items.clear()
    return html


def _split_links(thread: Thread) -> list[Thread]:
    """Threads split from this one, and the one it was split from: links both ways."""
    clause = Thread.split_from_id == thread.id
    if thread.split_from_id is not None:
        clause = clause | (Thread.id == thread.split_from_id)
    return list(
        db.session.execute(visible_threads(select(Thread), current_user).where(clause)).scalars()
    )


@bp.route("/threads/<int:thread_id>")
def thread(thread_id: int):
    thread, around = _thread_and_surroundings(thread_id)
    if thread is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, thread)
    if thread.merged_into_id is not None:  # merged: its posts live in the target thread
        return redirect(url_for(".thread", thread_id=thread.merged_into_id), code=301)
    return _render_view(thread, tree.thread_root(thread.id), around, branch=False)


@bp.route("/threads/<int:thread_id>/branch/<int:post_id>")
def branch(thread_id: int, post_id: int):
    post = _post_or_404(post_id)
    if post.thread_id != thread_id:
        abort(404)
    if not post.path:
        return redirect(url_for(".thread", thread_id=thread_id))
    _thread, around = _thread_and_surroundings(thread_id)
    return _render_view(post.thread, post, around, branch=True)


@bp.route("/posts/<int:post_id>")
def permalink(post_id: int):
    """Redirect to the post inside its thread (or branch page), on the right page."""
    post = _post_or_404(post_id)
    config = current_app.config
    max_depth, per_page = config["FORUM_MAX_DEPTH"], config["FORUM_POSTS_PER_PAGE"]
    root_depth = tree.view_root_depth(post, max_depth)
    root_path = post.path[: root_depth * SEGMENT_WIDTH]
    if root_depth == 0:
        root = tree.thread_root(post.thread_id)
    elif root_path == post.path:
        root = post
    else:
        root = db.session.execute(
            select(Post).where(Post.thread_id == post.thread_id, Post.path == root_path)
        ).scalar_one()
    page = tree.page_of(post, root, max_depth, per_page)
    args = {"page": page} if page > 1 else {}
    if root_depth == 0:
        url = url_for(".thread", thread_id=post.thread_id, **args)
    else:
        url = url_for(".branch", thread_id=post.thread_id, post_id=root.id, **args)
    return redirect(f"{url}#post-{post.id}")


@bp.route("/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@reads_first  # the checks and the rendering wait for no other writer
@limits.post
@login_required
def reply(thread_id: int):
    """GET: a page to answer one post (or quote it); POST: publish the reply."""
    form = ReplyForm()
    parent_id = form.parent_id.data if request.method == "POST" else None
    parent_id = parent_id or request.args.get("parent_id", type=int)
    # An answer to the thread: its opening post comes with it (one query less).
    found = None
    if request.method == "POST" and not parent_id:
        found = services.thread_and_opening(thread_id)
    thread, opening = found or (get_or_none(Thread, thread_id), None)
    if thread is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, thread)
    ensure(current_user, Action.POST_REPLY, thread)
    parent = get_or_none(Post, parent_id)
    if parent_id and (parent is None or parent.thread_id != thread.id):
        form.form_errors.append(_("Le message auquel vous répondez n'existe pas dans ce fil."))
        parent = None
    elif form.validate_on_submit():
        try:
            post = retry_on_deadlock(
                services.reply,
                current_user,
                thread,
                form.body.data,
                parent or opening,
                position=form.position.data or "",
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            return redirect(url_for(".permalink", post_id=post.id))
    if request.method == "GET":
        form.parent_id.data = parent.id if parent else None
        quoted = get_or_none(Post, request.args.get("quote", type=int))
        if (
            quoted is not None
            and quoted.thread_id == thread.id
            and can(current_user, Action.POST_QUOTE, quoted)
        ):
            form.body.data = content.quote_markdown(quoted.author.username, quoted.body_source)
            form.parent_id.data = quoted.id
            parent = quoted
    return form_page("discussions/reply.html", form, thread=thread, parent=parent)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post = _post_or_404(post_id)
    ensure(current_user, Action.POST_EDIT, post)
    form = EditForm(data={"body": post.body_source, "position": post.position or ""})
    if form.validate_on_submit():
        try:
            services.edit_post(
                current_user,
                post,
                form.body.data,
                form.reason.data or "",
                position=form.position.data or "",
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Message modifié."), "success")
            return redirect(url_for(".permalink", post_id=post.id))
    return form_page("discussions/edit.html", form, post=post)


@bp.route("/posts/<int:post_id>/delete", methods=["GET", "POST"])
@login_required
def delete_post(post_id: int):
    """GET: ask for confirmation; POST: delete softly."""
    post = _post_or_404(post_id)
    ensure(current_user, Action.POST_DELETE, post)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_post(current_user, post)
        flash(_("Message supprimé. Les réponses restent visibles."), "info")
        return redirect(url_for(".permalink", post_id=post.id))
    return form_page("discussions/delete.html", form, post=post)


@bp.route("/posts/<int:post_id>/history")
def post_history(post_id: int):
    post = _post_or_404(post_id)
    ensure(current_user, Action.POST_HISTORY, post)
    revisions = db.session.execute(
        select(PostRevision)
        .options(joinedload(PostRevision.editor))
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
    ).scalars()
    return render_template("discussions/history.html", post=post, revisions=list(revisions))
