"""Personal data: /privacy, /accessibilite, "Télécharger mes données" and erasure."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.extensions import db
from forum.forms import form_page
from forum.permissions import Action, ensure
from forum.privacy import erasure, export
from forum.privacy.forms import AdminEraseForm, EraseForm, ExportForm
from forum.refusals import Refused

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def privacy():
    """What the forum stores, why, for how long, who sees it, and how to export or erase it."""
    config = current_app.config
    return render_template(
        "privacy/privacy.html",
        controller=config["FORUM_DATA_CONTROLLER"],
        contact=config["FORUM_DATA_CONTACT"],
        days={
            "ip": config["FORUM_IP_RETENTION_DAYS"],
            "mail": config["FORUM_OUTBOX_KEEP_DAYS"],
            "notifications": config["FORUM_NOTIFICATION_RETENTION_DAYS"],
            "read_positions": config["FORUM_READ_POSITION_RETENTION_DAYS"],
        },
    )


@bp.get("/accessibilite")
def accessibility():
    """The accessibility statement (déclaration d'accessibilité, RGAA 4.1 format)."""
    return render_template(
        "privacy/accessibility.html", contact=current_app.config["FORUM_DATA_CONTACT"]
    )


@bp.route("/settings/data", methods=["GET", "POST"])
@login_required
def data():
    """The export page: ask for one (POST), follow its progress, download it when ready."""
    form = ExportForm()
    if form.validate_on_submit():
        try:
            export.request_export(current_user)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(
                _(
                    "Votre demande est enregistrée : nous vous écrivons dès que le fichier est prêt."
                ),
                "success",
            )
            return redirect(url_for("privacy.data"))
    return form_page("privacy/data.html", form, latest=export.latest(current_user))


@bp.get("/settings/data/<token>.zip")
@login_required
def download(token: str):
    """The ZIP, for its owner only, while it is valid. :raise 404: anything else."""
    path = export.ready_file(current_user, token)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"rencontres-sociales-{current_user.username}.zip",
    )


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
def delete():
    """ "Supprimer mon compte": explains, asks for the password, then erases."""
    ensure(current_user, Action.ACCOUNT_ERASE, current_user)
    form = EraseForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            erasure.erase_own_account(user, form.password.data, with_posts=form.with_posts.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            logout_user()
            flash(_("Votre compte est supprimé. Merci d'avoir pris part aux débats."), "info")
            return redirect(url_for("discussions.home"))
    return form_page("privacy/delete.html", form)


@bp.route("/admin/users/<username>/erase", methods=["GET", "POST"])
@login_required
def admin_erase(username: str):
    """An admin erases someone else's account, the same way (logged)."""
    user = db.session.execute(
        select(User).where(User.username_key == accounts.username_key(username))
    ).scalar()
    if user is None:
        abort(404)
    ensure(current_user, Action.USER_ERASE, user)
    form = AdminEraseForm()
    if form.validate_on_submit():
        name = user.username
        try:
            erasure.erase_account(user, actor=current_user, with_posts=form.with_posts.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Le compte « %(name)s » est supprimé.", name=name), "success")
            return redirect(url_for("discussions.home"))
    return form_page("privacy/admin_erase.html", form, user=user)
