"""Admin pages: themes (create, rename, describe, order, archive)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forum.discussions import services
from forum.discussions.forms import ThemeForm
from forum.discussions.models import Theme
from forum.errors import Refused
from forum.extensions import db
from forum.forms import form_page
from forum.permissions import Action, ensure

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    ensure(current_user, Action.ADMIN_ACCESS)


@bp.route("/")
def index():
    return redirect(url_for(".themes"))


@bp.route("/themes")
def themes():
    themes = db.session.execute(select(Theme).order_by(Theme.position, Theme.name)).scalars()
    return render_template("admin/themes.html", themes=list(themes))


@bp.route("/themes/new", methods=["GET", "POST"])
@bp.route("/themes/<int:theme_id>/edit", methods=["GET", "POST"])
def edit_theme(theme_id: int | None = None):
    theme = db.session.get(Theme, theme_id) if theme_id else None
    if theme_id and theme is None:
        abort(404)
    form = ThemeForm(obj=theme, archived=bool(theme and theme.is_archived))
    if form.validate_on_submit():
        try:
            services.save_theme(
                current_user,
                theme,
                name=form.name.data,
                slug=form.slug.data or "",
                description=form.description.data or "",
                position=form.position.data or 0,
                archived=form.archived.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Thème enregistré."), "success")
            return redirect(url_for(".themes"))
    return form_page("admin/theme_form.html", form, theme=theme)
