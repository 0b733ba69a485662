"""Forms for threads and posts. Services check content; forms check shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))
#: Generous here: the service gives the precise message about the 50,000 limit.
_BODY = [_REQUIRED, Length(max=200_000)]


class ThreadForm(FlaskForm):
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=300)])
    body = TextAreaField(_l("Message"), _BODY)


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Votre réponse"), _BODY)
    # A label of its own (never shown): WTForms would otherwise translate a default one,
    # loading its message catalogue from disk on every request.
    parent_id = IntegerField(
        "",
        widget=None,
        validators=[Optional(), NumberRange(min=1)],
        render_kw={"hidden": True},
    )
    #: The reply's stance towards the post it answers (forum.debate.positions checks it).
    position = StringField("", [Optional(), Length(max=10)], default="")


class EditForm(FlaskForm):
    body = TextAreaField(_l("Message"), _BODY)
    reason = StringField(_l("Raison de la modification (facultatif)"), [Length(max=300)])
    position = StringField("", [Optional(), Length(max=10)], default="")


class ConfirmForm(FlaskForm):
    """A bare POST form: the CSRF token is all it carries."""


class ThemeForm(FlaskForm):
    name = StringField(_l("Nom"), [_REQUIRED, Length(min=2, max=80)])
    slug = StringField(_l("Adresse (slug)"), [Length(max=60)])
    description = TextAreaField(_l("Description"), [Length(max=2000)])
    position = IntegerField(_l("Ordre"), [Optional(), NumberRange(min=0, max=10_000)], default=0)
    archived = BooleanField(_l("Archivé (lecture seule)"))
    synthesis_by_authors = BooleanField(
        _l("Les auteur·rices des fils peuvent rédiger la synthèse de leur fil")
    )
