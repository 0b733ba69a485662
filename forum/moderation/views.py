"""Moderation pages: the queue, the log, acts on posts, threads and users, reports.

Acts are POST routes whose paths are a contract (``/posts/<id>/hide``, ``/threads/<id>/lock``,
``/users/<username>/sanction`` …). A refused act changes nothing: a 403 page when the rule
says no, a message (flash, or the form again with 400) when the service says why.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from forum.accounts.models import User
from forum.accounts.services import username_key
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db, get_or_none
from forum.forms import form_page
from forum.moderation import journal, limits, reports, sanctions, services, words
from forum.moderation.forms import (
    DecisionForm,
    MergeForm,
    MoveForm,
    NoteForm,
    ReasonForm,
    ReportForm,
    SanctionForm,
    SplitForm,
    WatchedWordForm,
)
from forum.moderation.models import LogEntry, Report, UserNote, WatchedWord
from forum.pagination import paginate, parse_page
from forum.permissions import Action, ensure, moderation_scope
from forum.refusals import Refused

bp = Blueprint("moderation", __name__)


def _post(post_id: int) -> Post:
    post = get_or_none(Post, post_id, options=[joinedload(Post.thread), joinedload(Post.author)])
    if post is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, post.thread)
    return post


def _thread(thread_id: int) -> Thread:
    thread = get_or_none(Thread, thread_id)
    if thread is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, thread)
    return thread


def _user(username: str) -> User:
    user = db.session.execute(select(User).where(User.username_key == username_key(username)))
    user = user.scalar()
    if user is None:
        abort(404)
    return user


def _back_to_post(post: Post):
    return redirect(url_for("discussions.permalink", post_id=post.id))


def _back_to_thread(thread: Thread):
    return redirect(url_for("discussions.thread", thread_id=thread.id))


def _done(message: str) -> None:
    flash(message, "success")


def _refused(exc: Refused) -> None:
    flash(exc.message, "error")


# -- reports --------------------------------------------------------------------------------


@bp.route("/posts/<int:post_id>/report", methods=["GET", "POST"])
@limits.report
@login_required
def report_post(post_id: int):
    post = _post(post_id)
    ensure(current_user, Action.POST_REPORT, post)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.report_post(current_user, post, form.reason.data, form.note.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Merci : votre signalement est reçu. L'équipe de modération va l'examiner."))
            return _back_to_post(post)
    return form_page("moderation/report.html", form, post=post, target=None)


@bp.route("/users/<username>/report", methods=["GET", "POST"])
@limits.report
@login_required
def report_user(username: str):
    target = _user(username)
    ensure(current_user, Action.USER_REPORT, target)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.report_user(current_user, target, form.reason.data, form.note.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Merci : votre signalement est reçu. L'équipe de modération va l'examiner."))
            return redirect(url_for("accounts.profile", username=target.username))
    return form_page("moderation/report.html", form, post=None, target=target)


@bp.route("/my/reports")
@login_required
def my_reports():
    mine = reports.my_reports(current_user)
    warnings = sanctions.history(current_user)
    return render_template("moderation/my_reports.html", reports=mine, sanctions=warnings)


# -- acts on posts ----------------------------------------------------------------------------


@bp.route("/posts/<int:post_id>/hide", methods=["POST"])
@login_required
def hide_post(post_id: int):
    post = _post(post_id)
    ensure(current_user, Action.POST_HIDE, post)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.hide(current_user, post, form.reason.data)
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Message masqué."))
    return _back_to_post(post)


@bp.route("/posts/<int:post_id>/restore", methods=["POST"])
@login_required
def restore_post(post_id: int):
    post = _post(post_id)
    ensure(current_user, Action.POST_RESTORE, post)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.restore(current_user, post, form.reason.data or "")
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Message rétabli."))
    return _back_to_post(post)


@bp.route("/posts/<int:post_id>/split", methods=["GET", "POST"])
@login_required
def split(post_id: int):
    post = _post(post_id)
    ensure(current_user, Action.POST_SPLIT, post)
    form = SplitForm()
    if form.validate_on_submit():
        try:
            thread = services.split(current_user, post, form.title.data, form.reason.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("La branche est devenue un nouveau fil."))
            return _back_to_thread(thread)
    return form_page("moderation/split.html", form, post=post)


# -- acts on threads --------------------------------------------------------------------------


def _thread_act(thread_id: int, action: Action, act, message: str):
    thread = _thread(thread_id)
    ensure(current_user, action, thread)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            act(current_user, thread, form.reason.data or "")
        except Refused as exc:
            _refused(exc)
        else:
            _done(message)
    return _back_to_thread(thread)


@bp.route("/threads/<int:thread_id>/lock", methods=["POST"])
@login_required
def lock(thread_id: int):
    return _thread_act(thread_id, Action.THREAD_LOCK, services.lock, _("Fil verrouillé."))


@bp.route("/threads/<int:thread_id>/unlock", methods=["POST"])
@login_required
def unlock(thread_id: int):
    return _thread_act(thread_id, Action.THREAD_LOCK, services.unlock, _("Fil déverrouillé."))


@bp.route("/threads/<int:thread_id>/pin", methods=["POST"])
@login_required
def pin(thread_id: int):
    return _thread_act(thread_id, Action.THREAD_PIN, services.pin, _("Fil épinglé."))


@bp.route("/threads/<int:thread_id>/unpin", methods=["POST"])
@login_required
def unpin(thread_id: int):
    return _thread_act(thread_id, Action.THREAD_PIN, services.unpin, _("Fil désépinglé."))


def _theme_choices(viewer) -> list[SelectChoice]:
    scope = moderation_scope(viewer)
    stmt = select(Theme).where(Theme.archived_at.is_(None)).order_by(Theme.position, Theme.name)
    if scope is not None:
        stmt = stmt.where(Theme.id.in_(scope))
    return [SelectChoice(theme.slug, theme.name) for theme in db.session.execute(stmt).scalars()]


@bp.route("/threads/<int:thread_id>/moderate")
@login_required
def thread_tools(thread_id: int):
    """The thread's moderation page: lock, pin, move and merge forms."""
    thread = _thread(thread_id)
    ensure(current_user, Action.THREAD_MOVE, thread)
    move_form = MoveForm(formdata=None)
    move_form.theme.choices = _theme_choices(current_user)
    return render_template(
        "moderation/thread_tools.html",
        thread=thread,
        move_form=move_form,
        merge_form=MergeForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route("/threads/<int:thread_id>/move", methods=["POST"])
@login_required
def move(thread_id: int):
    thread = _thread(thread_id)
    ensure(current_user, Action.THREAD_MOVE, thread)
    form = MoveForm()
    form.theme.choices = _theme_choices(current_user)
    if form.validate_on_submit():
        theme = db.session.execute(select(Theme).where(Theme.slug == form.theme.data)).scalar()
        try:
            if theme is None:
                raise Refused(_("Ce thème n'existe pas."))
            services.move(current_user, thread, theme, form.reason.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Fil déplacé dans « %(name)s ».", name=theme.name))
            return _back_to_thread(thread)
    return _tools_again(thread, move_form=form)


@bp.route("/threads/<int:thread_id>/merge", methods=["POST"])
@login_required
def merge(thread_id: int):
    thread = _thread(thread_id)
    ensure(current_user, Action.THREAD_MERGE, thread)
    form = MergeForm()
    if form.validate_on_submit():
        into = get_or_none(Thread, form.into.data)
        try:
            if into is None:
                raise Refused(_("Aucun fil ne porte ce numéro."))
            ensure(current_user, Action.THREAD_VIEW, into)
            services.merge(current_user, thread, into, form.reason.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Fils fusionnés : tous les messages sont ici."))
            return _back_to_thread(into)
    return _tools_again(thread, merge_form=form)


def _tools_again(thread: Thread, **forms):
    move_form = forms.get("move_form") or MoveForm(formdata=None)
    move_form.theme.choices = _theme_choices(current_user)
    page = render_template(
        "moderation/thread_tools.html",
        thread=thread,
        move_form=move_form,
        merge_form=forms.get("merge_form") or MergeForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
    )
    return page, 400


# -- sanctions and history --------------------------------------------------------------------


@bp.route("/users/<username>/sanction", methods=["GET", "POST"])
@login_required
def sanction(username: str):
    target = _user(username)
    ensure(current_user, Action.USER_SANCTION, target)
    form = SanctionForm()
    if form.validate_on_submit():
        try:
            sanctions.sanction(
                current_user, target, form.kind.data, form.days.data, form.reason.data
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Sanction enregistrée."))
            return redirect(url_for(".user_history", username=target.username))
    return form_page("moderation/sanction.html", form, target=target)


@bp.route("/users/<username>/lift", methods=["POST"])
@login_required
def lift(username: str):
    target = _user(username)
    ensure(current_user, Action.USER_LIFT, target)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            sanctions.lift(current_user, target, form.reason.data)
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Sanction levée."))
    return redirect(url_for(".user_history", username=target.username))


@bp.route("/users/<username>/moderation")
@login_required
def user_history(username: str):
    target = _user(username)
    ensure(current_user, Action.USER_HISTORY, target)
    hidden = db.session.execute(
        select(Post)
        .options(joinedload(Post.thread))
        .where(Post.author_id == target.id, Post.hidden_at.is_not(None))
        .order_by(Post.hidden_at.desc())
        .limit(50)
    ).scalars()
    received = db.session.execute(
        select(Report)
        .options(joinedload(Report.reporter))
        .where(Report.user_id == target.id)
        .order_by(Report.created_at.desc())
        .limit(50)
    ).scalars()
    notes = db.session.execute(
        select(UserNote)
        .options(joinedload(UserNote.author))
        .where(UserNote.user_id == target.id)
        .order_by(UserNote.created_at.desc())
    ).scalars()
    return render_template(
        "moderation/user_history.html",
        target=target,
        sanctions=sanctions.history(target),
        hidden=list(hidden),
        reports=list(received),
        notes=list(notes),
        note_form=NoteForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route("/users/<username>/notes", methods=["POST"])
@login_required
def add_note(username: str):
    target = _user(username)
    ensure(current_user, Action.USER_HISTORY, target)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            sanctions.add_note(current_user, target, form.body.data)
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Note enregistrée."))
    return redirect(url_for(".user_history", username=target.username))


# -- the queue and the log --------------------------------------------------------------------


def _filter_theme() -> Theme | None:
    slug = request.args.get("theme") or ""
    if not slug or "\x00" in slug:
        return None
    return db.session.execute(select(Theme).where(Theme.slug == slug)).scalar()


@bp.route("/moderation/")
@login_required
def queue():
    ensure(current_user, Action.MODERATION_QUEUE)
    theme = _filter_theme()
    kind = request.args.get("kind") if request.args.get("kind") in reports.KINDS else None
    items = reports.queue(current_user, theme.id if theme else None, kind)
    return render_template(
        "moderation/queue.html",
        items=items,
        theme=theme,
        kind=kind,
        themes=_theme_choices(current_user),
        form=DecisionForm(formdata=None),
    )


@bp.route("/moderation/posts/<int:post_id>/decide", methods=["POST"])
@login_required
def decide_post(post_id: int):
    post = _post(post_id)
    ensure(current_user, Action.MODERATION_QUEUE)
    form = DecisionForm()
    if form.validate_on_submit():
        decision, reason = form.decision.data, form.reason.data or ""
        try:
            if decision in ("approve", "reject"):
                reports.decide_pending(current_user, post, decision == "approve", reason)
            else:
                reports.decide_post(
                    current_user,
                    post,
                    decision,
                    reason,
                    sanction_kind=form.kind.data,
                    days=form.days.data,
                )
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Décision enregistrée."))
    return redirect(url_for(".queue"))


@bp.route("/moderation/users/<username>/decide", methods=["POST"])
@login_required
def decide_user(username: str):
    target = _user(username)
    ensure(current_user, Action.MODERATION_QUEUE)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            reports.decide_user(
                current_user,
                target,
                form.decision.data,
                form.reason.data or "",
                sanction_kind=form.kind.data,
                days=form.days.data,
            )
        except Refused as exc:
            _refused(exc)
        else:
            _done(_("Décision enregistrée."))
    return redirect(url_for(".queue"))


LOG_PER_PAGE = 50


@bp.route("/moderation/log")
@login_required
def moderation_log():
    """The log, newest first, filtered by moderator, user, theme and act."""
    ensure(current_user, Action.MODERATION_LOG)
    stmt = select(LogEntry).options(
        joinedload(LogEntry.actor), joinedload(LogEntry.user), joinedload(LogEntry.theme)
    )
    scope = moderation_scope(current_user)
    if scope is not None:
        stmt = stmt.where(LogEntry.theme_id.in_(scope))
    filters, unknown = {}, []
    for arg, column in (("moderator", LogEntry.actor_id), ("user", LogEntry.user_id)):
        name = request.args.get(arg) or ""
        if name and "\x00" not in name:
            filters[arg] = name
            who = db.session.execute(
                select(User.id).where(User.username_key == username_key(name))
            ).scalar()
            if who is None:
                # No account: nothing to list (``column == None`` would list the
                # forum's automatic acts).
                unknown.append(name)
                stmt = stmt.where(false())
            else:
                stmt = stmt.where(column == who)
    theme = _filter_theme()
    if theme is not None:
        stmt = stmt.where(LogEntry.theme_id == theme.id)
    act = request.args.get("act") or ""
    if act and "\x00" not in act:
        stmt = stmt.where(LogEntry.action == act)
    page = paginate(
        stmt.order_by(LogEntry.id.desc()), parse_page(request.args.get("page")), LOG_PER_PAGE
    )
    return render_template(
        "moderation/log.html",
        page=page,
        told=journal.describe(page.items),
        filters=filters,
        unknown=unknown,
        theme=theme,
        act=act,
        acts=sorted(journal.SENTENCES),
        themes=_theme_choices(current_user),
    )


# -- watched words ----------------------------------------------------------------------------


@bp.route("/moderation/watched-words", methods=["GET", "POST"])
@login_required
def watched_words():
    ensure(current_user, Action.WATCHED_WORDS)
    form = WatchedWordForm()
    if form.validate_on_submit():
        try:
            words.add(current_user, form.word.data, form.action.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            _done(_("Mot ajouté."))
            return redirect(url_for(".watched_words"))
    rows = db.session.execute(select(WatchedWord).order_by(WatchedWord.key)).scalars()
    return form_page("moderation/watched_words.html", form, rows=list(rows))


@bp.route("/moderation/watched-words/<int:word_id>/delete", methods=["POST"])
@login_required
def delete_watched_word(word_id: int):
    ensure(current_user, Action.WATCHED_WORDS)
    row = get_or_none(WatchedWord, word_id)
    if row is None:
        abort(404)
    if ReasonForm().validate_on_submit():
        words.remove(current_user, row)
        _done(_("Mot retiré."))
    return redirect(url_for(".watched_words"))
