"""Registration, login and logout, public profiles, personal settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from forum.accounts import services
from forum.accounts.forms import (
    ConfirmForm,
    EmailChangeForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from forum.accounts.models import User
from forum.directory import queries as directory_queries
from forum.discussions.models import Post, Thread
from forum.extensions import db, get_or_none, limiter, login_manager
from forum.forms import form_page
from forum.moderation import limits
from forum.moderation.notices import sanction_notice
from forum.notifications import mail
from forum.permissions import visible_posts, visible_threads
from forum.refusals import Refused

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a login session, unless that session was revoked since."""
    user_id, _sep, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_or_none(User, int(user_id))
    if user is None or user.session_version != int(version) or user.is_suspended:
        return None
    return user


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("discussions.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return url_for("discussions.home")
    return target


@bp.route("/auth/register", methods=["GET", "POST"])
@limits.register
def register():
    if current_user.is_authenticated:
        return redirect(url_for("discussions.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register(form.username.data, form.email.data, form.password.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            mail.deliver_quietly(services.unsent_mail_ids(user))
            login_user(user)
            flash(_("Bienvenue, %(name)s ! Votre compte est créé.", name=user.username), "success")
            if mail.mail_enabled():
                flash(
                    _(
                        "Un e-mail vient de partir vers %(email)s : suivez son lien pour "
                        "pouvoir écrire sur le forum.",
                        email=user.email,
                    ),
                    "info",
                )
            return redirect(safe_next(request.args.get("next")))
    return form_page("accounts/register.html", form)


@bp.route("/auth/login", methods=["GET", "POST"])
@limits.login_ip
@limits.login_account
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data)
        except services.LoginThrottled as throttled:
            abort(429, description=throttled.message, retry_after=throttled.retry_after)
        if user is None:
            form.form_errors.append(_("Identifiant ou mot de passe incorrect."))
        elif user.is_suspended:
            abort(403, description=sanction_notice(user))
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
    return form_page("accounts/login.html", form)


@bp.route("/auth/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        services.log_out(current_user)
        logout_user()
        flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("discussions.home"))


@bp.route("/users/<username>")
def profile(username: str):
    user = db.session.execute(
        select(User).where(User.username_key == services.username_key(username))
    ).scalar()
    if user is None:
        abort(404)
    threads = db.session.execute(
        visible_threads(select(Thread), current_user)
        .where(Thread.author_id == user.id)
        .order_by(Thread.created_at.desc())
        .limit(10)
    ).scalars()
    posts = db.session.execute(
        visible_posts(select(Post), current_user)
        .join(Post.thread)
        .options(contains_eager(Post.thread))
        .where(Post.author_id == user.id, Post.parent_id.is_not(None))
        .order_by(Post.created_at.desc())
        .limit(10)
    ).scalars()
    from forum.messages.blocks import has_blocked

    return render_template(
        "accounts/profile.html",
        user=user,
        threads=list(threads),
        posts=list(posts),
        has_blocked=has_blocked(current_user, user),
        organisations=directory_queries.organisations_of(user.id),
    )


@bp.route("/settings", methods=["GET"])
@login_required
def settings():
    return _settings_page(ProfileForm(obj=current_user, formdata=None), PasswordForm(formdata=None))


def _settings_page(
    profile_form: ProfileForm,
    password_form: PasswordForm,
    email_form: EmailChangeForm | None = None,
):
    email_form = email_form or EmailChangeForm(formdata=None)
    refused = any(
        bool(f.errors or f.form_errors) for f in (profile_form, password_form, email_form)
    )
    from forum.messages.blocks import blocks_of

    page = render_template(
        "accounts/settings.html",
        profile_form=profile_form,
        password_form=password_form,
        email_form=email_form,
        blocks=blocks_of(current_user),
    )
    return page, 400 if refused else 200


@bp.route("/settings/profile", methods=["POST"])
@login_required
def settings_profile():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, **{name: form[name].data for name in services.PROFILE_FIELDS}
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Votre profil est enregistré."), "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(form, PasswordForm(formdata=None))


@bp.route("/settings/password", methods=["POST"])
@login_required
def settings_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            # The user itself, not the current_user proxy: login_user() below would store
            # the proxy as the session's user, and it would resolve to itself forever.
            user = services.change_password(
                current_user._get_current_object(), form.current_password.data, form.password.data
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            login_user(user)  # this session carries the new version; the others end
            flash(_("Mot de passe changé. Vos autres sessions sont fermées."), "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(ProfileForm(obj=current_user, formdata=None), form)


@bp.route("/settings/email", methods=["POST"])
@login_required
def settings_email():
    """Change of address: the password, then a link mailed to the new address."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            ids = services.request_email_change(
                current_user._get_current_object(), form.password.data, form.email.data
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            mail.deliver_quietly(ids)
            flash(
                _(
                    "Un e-mail de confirmation est parti vers la nouvelle adresse : votre "
                    "adresse changera quand vous aurez suivi son lien."
                ),
                "info",
            )
            return redirect(url_for("accounts.settings"))
    return _settings_page(
        ProfileForm(obj=current_user, formdata=None), PasswordForm(formdata=None), form
    )


def _token_page(title: str, text: str, button: str):
    return render_template(
        "accounts/confirm_link.html", title=title, text=text, button=button, form=ConfirmForm()
    )


@bp.route("/auth/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """GET shows a button (link scanners change nothing); POST applies the new address."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            user = services.confirm_email_change(token)
        except Refused as exc:
            abort(400, exc.message)
        flash(_("Votre adresse e-mail est maintenant %(email)s.", email=user.email), "success")
        return redirect(url_for("discussions.home"))
    return _token_page(
        _("Nouvelle adresse e-mail"),
        _("Confirmez pour utiliser cette adresse sur le forum."),
        _("Confirmer la nouvelle adresse"),
    )


@bp.route("/auth/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            services.verify_email(token)
        except Refused as exc:
            abort(400, exc.message)
        flash(_("Adresse confirmée : vous pouvez écrire sur le forum."), "success")
        return redirect(url_for("discussions.home"))
    return _token_page(
        _("Confirmer votre adresse e-mail"),
        _("Un clic, et vous pourrez ouvrir des fils et répondre."),
        _("Confirmer mon adresse"),
    )


@bp.route("/auth/verify/resend", methods=["POST"])
@limiter.limit("3 per minute;10 per hour")
@login_required
def resend_verification():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.email_verified_at is None and mail.mail_enabled():
        mail.deliver_quietly(services.send_verification(current_user._get_current_object()))
        flash(_("Un nouveau lien est parti vers %(email)s.", email=current_user.email), "info")
    return redirect(url_for("accounts.settings"))


RESET_SENT = _l(
    "Si un compte utilise cette adresse, un e-mail vient de lui être envoyé avec un lien pour "
    "choisir un nouveau mot de passe. Pensez à regarder dans les indésirables."
)


@bp.route("/auth/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def reset_request():
    """Ask for a reset link: the same answer whether or not the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        mail.deliver_quietly(services.request_password_reset(form.email.data))
        flash(str(RESET_SENT), "info")
        return redirect(url_for("accounts.login"))
    return form_page("accounts/reset_request.html", form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except Refused as exc:
        abort(400, exc.message)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            login_user(user)  # this session carries the new version; the others end
            flash(_("Mot de passe changé. Vos autres sessions sont fermées."), "success")
            return redirect(url_for("discussions.home"))
    return form_page("accounts/reset_password.html", form)
