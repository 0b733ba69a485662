"""Account forms. Services check what needs the database; forms check shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length

from forum.accounts.models import FAMILY_LABELS

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class RegisterForm(FlaskForm):
    username = StringField(_l("Pseudo"), [_REQUIRED, Length(max=60)])
    email = EmailField(_l("Adresse e-mail"), [_REQUIRED, Length(max=254)])
    password = PasswordField(_l("Mot de passe (10 caractères au moins)"), [_REQUIRED])
    password_confirm = PasswordField(
        _l("Mot de passe, une seconde fois"),
        [_REQUIRED, EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class LoginForm(FlaskForm):
    login = StringField(_l("Pseudo ou adresse e-mail"), [_REQUIRED, Length(max=254)])
    password = PasswordField(_l("Mot de passe"), [_REQUIRED, Length(max=1024)])


def _family_choices():
    return [("", _l("— non précisée —"))] + [(f.value, label) for f, label in FAMILY_LABELS.items()]


def _locale_choices():
    # A callable, like the families: WTForms 3.3 deprecates a literal list of tuples.
    return [("", _l("celle du navigateur")), ("fr", "Français"), ("en", "English")]


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Nom affiché"), [Length(max=80)])
    bio = TextAreaField(_l("Présentation courte"), [Length(max=1000)])
    family = SelectField(_l("Famille d'acteurs"), choices=_family_choices, validate_choice=True)
    organisation = StringField(_l("Organisation"), [Length(max=120)])
    territory = StringField(_l("Territoire"), [Length(max=120)])
    locale = SelectField(_l("Langue de l'interface"), choices=_locale_choices)


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mot de passe actuel"), [_REQUIRED])
    password = PasswordField(_l("Nouveau mot de passe"), [_REQUIRED])
    password_confirm = PasswordField(
        _l("Nouveau mot de passe, une seconde fois"),
        [_REQUIRED, EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail du compte"), [_REQUIRED, Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Nouveau mot de passe (10 caractères au moins)"), [_REQUIRED])
    password_confirm = PasswordField(
        _l("Nouveau mot de passe, une seconde fois"),
        [_REQUIRED, EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("Nouvelle adresse e-mail"), [_REQUIRED, Length(max=254)])
    password = PasswordField(_l("Mot de passe actuel"), [_REQUIRED, Length(max=1024)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button of a link that changes something."""
