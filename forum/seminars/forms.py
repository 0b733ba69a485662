"""Forms for seminars, sessions, registration, minutes and follow-up threads.

``datetime-local`` fields hold wall-clock times in Europe/Paris (``YYYY-MM-DDTHH:MM``);
views convert them to UTC with :func:`forum.seminars.services.from_paris`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forum.seminars.models import KIND_LABELS, STATUS_LABELS

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))
_FORMAT = "%Y-%m-%dT%H:%M"
_BAD_DATE = _l("Date et heure attendues, au format JJ/MM/AAAA HH:MM.")


class ParisDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input whose parse error speaks French."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_BAD_DATE)) from None


def _when(label, required: bool = True) -> ParisDateTimeField:
    validators = [_REQUIRED] if required else [Optional()]
    return ParisDateTimeField(label, validators, format=_FORMAT)


class _Timed(FlaskForm):
    def validate_ends_at(self, field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("La fin doit venir après le début."))


class SeminarForm(_Timed):
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=150)])
    description = TextAreaField(_l("Description"), [Length(max=50_000)])
    venue = StringField(_l("Lieu"), [Length(max=150)])
    address = StringField(_l("Adresse"), [Length(max=300)])
    starts_at = _when(_l("Début"))
    ends_at = _when(_l("Fin"))
    capacity = IntegerField(
        _l("Nombre de places (vide : sans limite)"), [Optional(), NumberRange(min=1, max=100_000)]
    )
    registration_closes_at = _when(_l("Clôture des inscriptions (facultatif)"), required=False)
    status = SelectField(
        _l("État"), choices=[SelectChoice(key.value, label) for key, label in STATUS_LABELS.items()]
    )


class SessionForm(_Timed):
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=150)])
    kind = SelectField(
        _l("Type"), choices=[SelectChoice(key.value, label) for key, label in KIND_LABELS.items()]
    )
    starts_at = _when(_l("Début"))
    ends_at = _when(_l("Fin"))
    room = StringField(_l("Salle"), [Length(max=150)])
    theme = SelectField(_l("Thème (facultatif)"), choices=[], validate_choice=True)
    speakers = TextAreaField(
        _l("Intervenant·es, une par ligne : « Nom, organisation »"), [Length(max=5000)]
    )
    description = TextAreaField(_l("Description"), [Length(max=50_000)])
    capacity = IntegerField(
        _l("Places (ateliers ; vide : sans limite)"), [Optional(), NumberRange(min=1, max=100_000)]
    )


class RegisterForm(FlaskForm):
    workshops = SelectMultipleField(
        _l("Ateliers choisis"),
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Compte rendu"), [_REQUIRED, Length(max=200_000)])


class FollowUpForm(FlaskForm):
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=300)])
    body = TextAreaField(_l("Message"), [_REQUIRED, Length(max=200_000)])


class LinkThreadForm(FlaskForm):
    thread_id = IntegerField(_l("Numéro du fil"), [_REQUIRED, NumberRange(min=1)])
    kind = SelectField(
        _l("Lien"),
        choices=[
            SelectChoice("follow_up", _l("suite")),
            SelectChoice("preparation", _l("préparation")),
        ],
    )


class AttendanceForm(FlaskForm):
    attended = SelectField(
        _l("Présence"),
        choices=[
            SelectChoice("", _l("non renseignée")),
            SelectChoice("yes", _l("présent·e")),
            SelectChoice("no", _l("absent·e")),
        ],
    )
