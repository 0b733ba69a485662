"""Forms of the data pages: ask for an export, erase an account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import InputRequired

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class ExportForm(FlaskForm):
    """Only the CSRF token: the "Télécharger mes données" button."""


class EraseForm(FlaskForm):
    password = PasswordField(_l("Votre mot de passe"), [_REQUIRED])
    with_posts = BooleanField(_l("Supprimer aussi mes messages"))


class AdminEraseForm(FlaskForm):
    with_posts = BooleanField(_l("Supprimer aussi ses messages"))
