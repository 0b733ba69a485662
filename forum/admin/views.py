"""Admin pages: themes (create, rename, describe, order, archive) and moderators."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from forum.accounts.models import Role, User
from forum.accounts.services import username_key
from forum.debate import services as debate
from forum.discussions import services
from forum.discussions.forms import ThemeForm
from forum.discussions.models import Theme
from forum.extensions import db
from forum.forms import form_page
from forum.moderation import services as moderation
from forum.moderation.forms import ModeratorForm, ReasonForm
from forum.moderation.models import ThemeModerator
from forum.permissions import Action, ensure
from forum.refusals import Refused

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
            saved = services.save_theme(
                current_user,
                theme,
                name=form.name.data,
                slug=form.slug.data or "",
                description=form.description.data or "",
                position=form.position.data or 0,
                archived=form.archived.data,
            )
            debate.set_synthesis_by_authors(current_user, saved, form.synthesis_by_authors.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Thème enregistré."), "success")
            return redirect(url_for(".themes"))
    return form_page("admin/theme_form.html", form, theme=theme)


def _themes() -> list[Theme]:
    return list(db.session.execute(select(Theme).order_by(Theme.position, Theme.name)).scalars())


@bp.route("/moderators", methods=["GET", "POST"])
def moderators():
    """Who moderates: global moderators, and theme moderators with their themes."""
    themes = _themes()
    form = ModeratorForm()
    form.theme.choices = [SelectChoice("", _("Tous les thèmes"))]
    form.theme.choices += [SelectChoice(t.slug, t.name) for t in themes]
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.username_key == username_key(form.username.data))
        ).scalar()
        theme = next((t for t in themes if t.slug == form.theme.data), None)
        if user is None:
            form.username.errors = [_("Aucun compte ne porte ce pseudo.")]
        elif user.role == Role.ADMIN:
            form.username.errors = [_("Ce compte est administrateur : il modère déjà tout.")]
        else:
            moderation.set_role(current_user, user, Role.MODERATOR, theme)
            flash(_("%(name)s est modérateur·rice.", name=user.username), "success")
            return redirect(url_for(".moderators"))
    staff = db.session.execute(
        select(User).where(User.role == Role.MODERATOR).order_by(User.username_key)
    ).scalars()
    scopes: dict[int, list[Theme]] = {}
    for row in db.session.execute(
        select(ThemeModerator).options(joinedload(ThemeModerator.theme))
    ).scalars():
        scopes.setdefault(row.user_id, []).append(row.theme)
    return form_page(
        "admin/moderators.html",
        form,
        staff=list(staff),
        scopes=scopes,
        confirm=ReasonForm(formdata=None),
    )


@bp.route("/moderators/<int:user_id>/revoke", methods=["POST"])
def revoke_moderator(user_id: int):
    """Make a moderator a member again, or (``?theme=slug``) remove one of their themes."""
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.MODERATOR:
        abort(404)
    if ReasonForm().validate_on_submit():
        slug = request.args.get("theme")
        theme = (
            db.session.execute(select(Theme).where(Theme.slug == slug)).scalar() if slug else None
        )
        if theme is not None:
            moderation.remove_theme_scope(current_user, user, theme)
        else:
            moderation.set_role(current_user, user, Role.MEMBER)
        flash(_("Droits de modération mis à jour."), "success")
    return redirect(url_for(".moderators"))
