"""Forms of moderation: reports, acts with a reason, sanctions, notes, roles, watched words.

Field names are the issue's contract (``reason``, ``note``, ``theme``, ``into``, ``title``,
``kind``, ``days``). Services check content; forms check shape.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from forum.moderation.models import (
    REASON_LABELS,
    SANCTION_LABELS,
    WORD_ACTION_LABELS,
)

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class ReportForm(FlaskForm):
    reason = SelectField(
        _l("Raison"),
        [_REQUIRED],
        choices=[SelectChoice(key.value, label) for key, label in REASON_LABELS.items()],
        validate_choice=False,  # the service says which reasons exist, in French
    )
    note = TextAreaField(_l("Précisions (obligatoires pour « autre »)"), [Length(max=1000)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Raison"), [Length(max=300)])


class MoveForm(ReasonForm):
    theme = SelectField(_l("Thème d'arrivée"), [_REQUIRED], validate_choice=False)


class MergeForm(ReasonForm):
    into = IntegerField(
        _l("Numéro du fil d'arrivée"),
        [_REQUIRED, NumberRange(min=1, message=_l("Un numéro de fil est attendu."))],
    )


class SplitForm(ReasonForm):
    title = StringField(_l("Titre du nouveau fil"), [_REQUIRED, Length(max=300)])


_SANCTION_CHOICES = [SelectChoice(key.value, label) for key, label in SANCTION_LABELS.items()]
_DAYS = [Optional(), NumberRange(min=1, max=3650, message=_l("Entre 1 et 3 650 jours."))]


class SanctionForm(FlaskForm):
    kind = SelectField(
        _l("Sanction"), [_REQUIRED], choices=_SANCTION_CHOICES, validate_choice=False
    )
    days = IntegerField(_l("Durée en jours (silence, suspension)"), _DAYS)
    reason = TextAreaField(_l("Raison (montrée à la personne)"), [_REQUIRED, Length(max=1000)])


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Décision"),
        [_REQUIRED],
        choices=[
            SelectChoice("dismiss", _l("Rejeter le signalement")),
            SelectChoice("hide", _l("Masquer le message")),
            SelectChoice("hide_sanction", _l("Masquer et sanctionner l'auteur·rice")),
            SelectChoice("approve", _l("Approuver")),
            SelectChoice("reject", _l("Refuser")),
        ],
        validate_choice=False,
    )
    reason = StringField(_l("Raison"), [Length(max=300)])
    kind = SelectField(_l("Sanction"), choices=_SANCTION_CHOICES, validate_choice=False)
    days = IntegerField(_l("Durée en jours"), _DAYS)


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note privée"), [_REQUIRED, Length(max=5000)])


class ModeratorForm(FlaskForm):
    username = StringField(_l("Pseudo"), [_REQUIRED, Length(max=30)])
    theme = SelectField(_l("Thème (vide : tous les thèmes)"), validate_choice=False)


class WatchedWordForm(FlaskForm):
    word = StringField(_l("Mot ou expression"), [_REQUIRED, Length(max=100)])
    action = SelectField(
        _l("Action"),
        choices=[SelectChoice(key.value, label) for key, label in WORD_ACTION_LABELS.items()],
        validate_choice=False,
    )
