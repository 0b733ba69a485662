"""Forms of the debate: polls and the synthesis. Services check content; forms check shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from forum.debate.models import RESULTS_LABELS

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


def _results_choices():
    return [(code.value, label) for code, label in RESULTS_LABELS.items()]


class PollForm(FlaskForm):
    question = StringField(_l("Question"), [_REQUIRED, Length(max=600)])
    options = TextAreaField(_l("Options, une par ligne (de 2 à 20)"), [_REQUIRED, Length(max=8000)])
    multiple = BooleanField(_l("Plusieurs choix possibles"))
    #: A date and time in Europe/Paris (``datetime-local``); empty: open until closed by hand.
    closes_at = StringField(_l("Clôture automatique (facultatif)"), [Optional(), Length(max=40)])
    results = SelectField(_l("Résultats visibles"), choices=_results_choices, default="always")


class SynthesisForm(FlaskForm):
    consensus = TextAreaField(_l("Points d'accord"), [Length(max=40_000)])
    disagreements = TextAreaField(_l("Désaccords"), [Length(max=40_000)])
    questions = TextAreaField(_l("Questions ouvertes"), [Length(max=40_000)])
    proposals = TextAreaField(_l("Propositions"), [Length(max=40_000)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""
