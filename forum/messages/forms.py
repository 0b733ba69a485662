"""Forms of private conversations. Field names are the issue's contract (``to``,
``subject``, ``body``, ``username``); services check content, forms check shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class NewConversationForm(FlaskForm):
    to = StringField(
        _l("Destinataires"),
        [_REQUIRED, Length(max=1000)],
        description=_l("Un ou plusieurs pseudos, séparés par des virgules ou des espaces."),
    )
    subject = StringField(_l("Sujet"), [_REQUIRED, Length(max=300)])
    body = TextAreaField(_l("Message"), [_REQUIRED])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Votre message"), [_REQUIRED])


class InviteForm(FlaskForm):
    username = StringField(_l("Pseudo de la personne à ajouter"), [_REQUIRED, Length(max=60)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a button that changes something."""
