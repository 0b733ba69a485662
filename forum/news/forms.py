"""The news form: shape only; the service checks content."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class NewsForm(FlaskForm):
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=300)])
    body = TextAreaField(_l("Texte"), [_REQUIRED, Length(max=200_000)])
    theme = SelectField(_l("Thème lié (facultatif)"), choices=[], validate_choice=True)
