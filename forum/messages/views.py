"""Pages of private conversations: ``/messages/…``, blocking, and the moderators' view of a
reported message with its context.

A conversation exists for its participants only: everyone else gets 404, never 403
(:func:`forum.permissions.ensure_found`). Every change is a POST with CSRF. Services
refuse with :class:`Refused` (400), :class:`Forbidden` (403) or :class:`TooMany` (429).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from forum.accounts.models import User
from forum.extensions import db, get_or_none
from forum.messages import blocks, checks, queries, reports, services
from forum.messages.forms import ConfirmForm, InviteForm, MessageForm, NewConversationForm
from forum.messages.models import Conversation, Message
from forum.moderation import limits
from forum.moderation.forms import ReasonForm, ReportForm
from forum.pagination import parse_page
from forum.permissions import Action, ConversationRights, can, ensure, ensure_found
from forum.refusals import Refused

bp = Blueprint("messages", __name__)


def status_of(exc: Refused) -> int:
    if isinstance(exc, checks.TooMany):
        return 429
    if isinstance(exc, checks.Forbidden):
        return 403
    return 400


def _conversation(conversation_id: int) -> Conversation:
    """The conversation, for its participants only: 404 for anyone else."""
    conversation = queries.conversation_of(conversation_id)
    if conversation is None:
        abort(404)
    ensure_found(current_user, Action.CONVERSATION_VIEW, conversation)
    return conversation


def _message(message_id: int) -> Message:
    message = get_or_none(Message, message_id)
    if message is None:
        abort(404)
    conversation = queries.conversation_of(message.conversation_id)
    ensure_found(current_user, Action.CONVERSATION_VIEW, conversation)
    row = conversation.participant(current_user)
    if message.is_line or not row.sees(message):
        abort(404)
    return message


def _user(username: str) -> User:
    from forum.accounts.services import username_key

    user = db.session.execute(
        select(User).where(User.username_key == username_key(username))
    ).scalar()
    if user is None:
        abort(404)
    return user


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/messages/")
@login_required
def index():
    page = queries.my_conversations(current_user, parse_page(request.args.get("page")))
    return render_template("messages/index.html", page=page)


@bp.route("/messages/new", methods=["GET", "POST"])
@login_required
def new():
    form = NewConversationForm()
    if request.method == "GET" and request.args.get("to"):
        form.to.data = request.args["to"][:1000]
    status = 200
    if form.validate_on_submit():
        try:
            recipients = checks.find_recipients(form.to.data)
            conversation = services.start_conversation(
                current_user, recipients, form.subject.data, form.body.data
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
            status = status_of(exc)
        else:
            flash(_("Votre message est envoyé."), "success")
            return redirect(url_for(".conversation", conversation_id=conversation.id))
    elif request.method == "POST":
        status = 400
    allowed = can(current_user, Action.CONVERSATION_START)
    return render_template("messages/new.html", form=form, allowed=allowed), status


def _page(conversation: Conversation, form: MessageForm | None = None, status: int = 200):
    row = conversation.participant(current_user)
    if request.method == "GET" and row.counted:
        # The header shows the count this view is about to lower (mark_read, after render).
        user = current_user._get_current_object()
        set_committed_value(user, "unread_conversations", max(0, user.unread_conversations - 1))
    page = render_template(
        "messages/conversation.html",
        conversation=conversation,
        me=row,
        messages=queries.visible_messages(conversation, row),
        blocked=blocks.block_dates(current_user),
        reveal=request.args.get("show", type=int),
        unread_after=row.last_read_message_id,
        rights=ConversationRights(current_user, conversation),
        form=form or MessageForm(formdata=None),
        invite_form=InviteForm(formdata=None),
    )
    if request.method == "GET":
        services.mark_read(conversation, row, notifications=current_user.unread_notifications > 0)
    return page, status


@bp.route("/messages/<int:conversation_id>")
@login_required
def conversation(conversation_id: int):
    return _page(_conversation(conversation_id))


@bp.route("/messages/<int:conversation_id>/reply", methods=["POST"])
@login_required
def reply(conversation_id: int):
    conversation = _conversation(conversation_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return _page(conversation, form, 400)
    try:
        message = services.post_message(conversation, current_user, form.body.data)
    except Refused as exc:
        form.form_errors.append(exc.message)
        return _page(conversation, form, status_of(exc))
    return redirect(
        url_for(".conversation", conversation_id=conversation_id, _anchor=f"message-{message.id}")
    )


@bp.route("/messages/<int:conversation_id>/invite", methods=["POST"])
@login_required
def invite(conversation_id: int):
    conversation = _conversation(conversation_id)
    form = InviteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        users = checks.find_recipients(form.username.data)
        if len(users) != 1:
            raise Refused(_("Ajoutez une personne à la fois."))
        services.add_participant(conversation, users[0], by=current_user)
    except Refused as exc:
        abort(status_of(exc), exc.message)
    flash(_("%(name)s a rejoint la conversation.", name=users[0].username), "success")
    return redirect(url_for(".conversation", conversation_id=conversation_id))


@bp.route("/messages/<int:conversation_id>/leave", methods=["POST"])
@login_required
def leave(conversation_id: int):
    conversation = _conversation(conversation_id)
    _confirmed()
    try:
        services.leave(conversation, current_user)
    except Refused as exc:
        abort(status_of(exc), exc.message)
    flash(_("Vous avez quitté la conversation."), "success")
    return redirect(url_for(".index"))


@bp.route("/messages/<int:conversation_id>/mute", methods=["POST"])
@login_required
def mute(conversation_id: int):
    return _set_muted(conversation_id, True)


@bp.route("/messages/<int:conversation_id>/unmute", methods=["POST"])
@login_required
def unmute(conversation_id: int):
    return _set_muted(conversation_id, False)


def _set_muted(conversation_id: int, muted: bool):
    conversation = _conversation(conversation_id)
    _confirmed()
    try:
        services.set_muted(conversation, current_user, muted)
    except Refused as exc:
        abort(status_of(exc), exc.message)
    if muted:
        flash(_("Conversation en silencieux : plus de notification ni d'e-mail."), "success")
    else:
        flash(_("Vous serez de nouveau prévenu·e des nouveaux messages."), "success")
    return redirect(url_for(".conversation", conversation_id=conversation_id))


@bp.route("/messages/m/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit(message_id: int):
    message = _message(message_id)
    ensure(current_user, Action.MESSAGE_EDIT, message)
    form = MessageForm(data={"body": message.body_source})
    status = 200
    if form.validate_on_submit():
        try:
            services.edit_message(current_user, message, form.body.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
            status = status_of(exc)
        else:
            return redirect(_message_url(message))
    elif request.method == "POST":
        status = 400
    return render_template("messages/edit.html", form=form, message=message), status


@bp.route("/messages/m/<int:message_id>/delete", methods=["POST"])
@login_required
def delete(message_id: int):
    message = _message(message_id)
    _confirmed()
    try:
        services.delete_message(current_user, message)
    except Refused as exc:
        abort(status_of(exc), exc.message)
    flash(_("Votre message est supprimé."), "success")
    return redirect(_message_url(message))


@bp.route("/messages/m/<int:message_id>/history")
@login_required
def history(message_id: int):
    message = _message(message_id)
    if message.edit_count == 0:
        abort(404)
    return render_template(
        "messages/history.html", message=message, revisions=queries.revisions(message)
    )


def _message_url(message: Message) -> str:
    return url_for(
        ".conversation", conversation_id=message.conversation_id, _anchor=f"message-{message.id}"
    )


@bp.route("/messages/<int:message_id>/report", methods=["GET", "POST"])
@limits.report
@login_required
def report(message_id: int):
    """Report a message (``<id>`` is the message's id): it reaches the moderation queue
    with the five messages before it as context."""
    message = _message(message_id)
    ensure(current_user, Action.MESSAGE_REPORT, message)
    form = ReportForm()
    status = 200
    if form.validate_on_submit():
        try:
            reports.report_message(current_user, message, form.reason.data, form.note.data or "")
        except Refused as exc:
            form.form_errors.append(exc.message)
            status = status_of(exc)
        else:
            flash(
                _("Merci : votre signalement est reçu. L'équipe de modération va l'examiner."),
                "success",
            )
            return redirect(_message_url(message))
    elif request.method == "POST":
        status = 400
    return render_template("messages/report.html", form=form, message=message), status


# -- blocking ---------------------------------------------------------------------------------


@bp.route("/users/<username>/block", methods=["POST"])
@login_required
def block(username: str):
    target = _user(username)
    _confirmed()
    try:
        blocks.block(current_user, target)
    except Refused as exc:
        abort(403, exc.message)
    flash(
        _("Vous avez bloqué %(name)s : ce compte ne peut plus vous écrire.", name=target.username),
        "success",
    )
    return redirect(_back(url_for("accounts.profile", username=target.username)))


@bp.route("/users/<username>/unblock", methods=["POST"])
@login_required
def unblock(username: str):
    target = _user(username)
    _confirmed()
    blocks.unblock(current_user, target)
    flash(_("Vous avez débloqué %(name)s.", name=target.username), "success")
    return redirect(_back(url_for("accounts.profile", username=target.username)))


def _back(default: str) -> str:
    from forum.accounts.views import safe_next

    target = request.form.get("next")
    return safe_next(target) if target else default


# -- moderators: a reported message and its context -------------------------------------------


@bp.route("/moderation/messages/<int:message_id>")
@login_required
def review(message_id: int):
    """A reported message with the five before it; each view is written to the log."""
    message = get_or_none(Message, message_id)
    if message is None:
        abort(404)
    ensure(current_user, Action.MESSAGE_REVIEW, message)
    try:
        context, open_reports = reports.review(current_user, message)
    except Refused:
        abort(404)
    return render_template(
        "messages/review.html",
        message=message,
        context=context,
        reports=open_reports,
        form=ReasonForm(formdata=None),
    )


@bp.route("/moderation/messages/<int:message_id>/decide", methods=["POST"])
@login_required
def decide(message_id: int):
    message = get_or_none(Message, message_id)
    if message is None:
        abort(404)
    ensure(current_user, Action.MESSAGE_REVIEW, message)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reports.decide_message(
            current_user, message, request.form.get("decision", ""), form.reason.data or ""
        )
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".review", message_id=message_id))
    flash(_("Décision enregistrée."), "success")
    return redirect(url_for("moderation.queue"))
