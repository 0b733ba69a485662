"""The bell's page, following (watch buttons, what I follow), unread threads, mail settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum.discussions.models import Theme, Thread
from forum.extensions import csrf, db, get_or_none
from forum.forms import form_page
from forum.notifications import inbox, reading, watching
from forum.notifications import preferences as mail_preferences
from forum.notifications.forms import ConfirmForm, PreferencesForm, WatchForm
from forum.notifications.models import LEVEL_LABELS, Kind, Level, Notification
from forum.pagination import paginate, parse_page
from forum.permissions import Action, ensure
from forum.refusals import Refused

bp = Blueprint("notifications", __name__)

PER_PAGE = 50


@bp.route("/notifications")
@login_required
def index():
    page = paginate(inbox.listing(current_user), parse_page(request.args.get("page")), PER_PAGE)
    return render_template(
        "notifications/index.html",
        page=page,
        groups=inbox.group(page.items),
        form=ConfirmForm(),
        target_url=inbox.target_url,
    )


def _own_notification(notification_id: int) -> Notification:
    notification = get_or_none(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    """Mark a notification (and its group) read, then open what it is about."""
    notification = _own_notification(notification_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    inbox.mark_read(current_user, notification)
    if request.form.get("stay"):
        return redirect(url_for(".index"))
    return redirect(inbox.target_url(notification))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    inbox.mark_read(current_user)
    flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(url_for(".index"))


@bp.route("/following")
@login_required
def following():
    threads, themes = watching.followed(current_user)
    return render_template(
        "notifications/following.html",
        threads=threads,
        themes=themes,
        form=WatchForm(formdata=None),
        level_labels=LEVEL_LABELS,
    )


@bp.route("/unread")
@login_required
def unread():
    return render_template(
        "notifications/unread.html",
        states=reading.unread_threads(current_user),
        unread_count=reading.unread_count,
    )


def _back(default: str) -> str:
    from forum.accounts.views import safe_next

    target = request.form.get("next")
    return safe_next(target) if target else default


@bp.route("/threads/<int:thread_id>/watch", methods=["POST"])
@login_required
def watch_thread(thread_id: int):
    thread = get_or_none(Thread, thread_id)
    if thread is None:
        abort(404)
    ensure(current_user, Action.THREAD_WATCH, thread)
    form = WatchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        watching.watch_thread(current_user, thread, form.level.data)
    except Refused as exc:
        abort(400, exc.message)
    flash(_level_message(form.level.data), "success")
    return redirect(_back(url_for("discussions.thread", thread_id=thread.id)))


@bp.route("/themes/<slug>/watch", methods=["POST"])
@login_required
def watch_theme(slug: str):
    theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar()
    if theme is None:
        abort(404)
    ensure(current_user, Action.THEME_WATCH, theme)
    form = WatchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        watching.watch_theme(current_user, theme, form.level.data)
    except Refused as exc:
        abort(400, exc.message)
    if form.level.data == Level.WATCHING:
        flash(_("Vous suivez les nouveaux fils de ce thème."), "success")
    else:
        flash(_("Vous ne suivez plus les nouveaux fils de ce thème."), "success")
    return redirect(_back(url_for("discussions.theme", slug=theme.slug)))


def _level_message(level: str) -> str:
    if level == Level.WATCHING:
        return _("Vous suivez ce fil : chaque nouveau message vous sera signalé.")
    if level == Level.MUTED:
        return _("Ce fil est en silencieux : plus aucune notification.")
    return _("Suivi normal : seules les réponses et les mentions vous seront signalées.")


@bp.route("/threads/<int:thread_id>/unread")
def first_unread(thread_id: int):
    """Redirect to the first post the member has not read (the thread page when none)."""
    thread = get_or_none(Thread, thread_id)
    if thread is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, thread)
    post_id = reading.first_unread_post_id(current_user, thread)
    if post_id is None:
        return redirect(url_for("discussions.thread", thread_id=thread.id))
    return redirect(url_for("discussions.permalink", post_id=post_id))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = mail_preferences.preferences_of(current_user)
    form = PreferencesForm(data={kind.value: delivery.value for kind, delivery in current.items()})
    if form.validate_on_submit():
        try:
            mail_preferences.set_preferences(
                current_user, {kind.value: form[kind.value].data for kind in Kind}
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Vos préférences d'e-mail sont enregistrées."), "success")
            return redirect(url_for(".preferences"))
    return form_page("notifications/preferences.html", form)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET"])
def unsubscribe_page(token: str):
    """The link of every mail: a button, so that link scanners unsubscribe nobody."""
    return render_template("notifications/unsubscribe.html", token=token, done=None)


@bp.route("/notifications/unsubscribe/<token>", methods=["POST"])
@csrf.exempt  # RFC 8058 one-click: mail clients POST without a form; the token is signed
def unsubscribe(token: str):
    result = mail_preferences.unsubscribe(token)
    if result is None:
        abort(
            400,
            _(
                "Ce lien de désinscription n'est pas valide. Réglez vos e-mails depuis vos réglages."
            ),
        )
    return render_template("notifications/unsubscribe.html", token=token, done=result[1])
