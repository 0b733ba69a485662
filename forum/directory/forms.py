"""The directory's forms: shape only; the services check content and territory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from forum.accounts.models import FAMILY_LABELS
from forum.directory import territories
from forum.directory.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    ORGANISATION_FAMILIES,
    OUTCOME_LABELS,
    SCOPE_LABELS,
)

_REQUIRED = InputRequired(message=_l("Ce champ est obligatoire."))


class FrenchDateField(DateField):
    """A date input whose parse error speaks French."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Date attendue, au format JJ/MM/AAAA."))) from None


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in labels.items()]


class OrganisationForm(FlaskForm):
    name = StringField(_l("Nom de l'organisation"), [_REQUIRED, Length(max=150)])
    family = SelectField(_l("Famille d'acteurs"), [_REQUIRED], choices=[])
    kind = SelectField(_l("Type d'organisation"), [_REQUIRED], choices=[])
    region = SelectField(_l("Région"), [_REQUIRED], choices=[])
    departement = SelectField(_l("Département"), [_REQUIRED], choices=[])
    commune = StringField(_l("Commune (facultatif)"), [Optional(), Length(max=120)])
    description = TextAreaField(_l("Présentation"), [Length(max=20_000)])
    website = StringField(_l("Site web (facultatif)"), [Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.family.choices = [(f.value, str(FAMILY_LABELS[f])) for f in ORGANISATION_FAMILIES]
        self.kind.choices = _choices(KIND_LABELS)
        self.region.choices = [(r.code, r.name) for r in territories.regions().values()]
        self.departement.choices = [(d.code, d.label) for d in territories.departements().values()]


class OfferForm(FlaskForm):
    kind = RadioField(
        _l("Vous publiez"),
        [_REQUIRED],
        choices=[
            SelectChoice("offer", _l("une offre — « nous proposons… »")),
            SelectChoice("need", _l("un besoin — « nous cherchons… »")),
        ],
    )
    title = StringField(_l("Titre"), [_REQUIRED, Length(max=150)])
    body = TextAreaField(_l("Description"), [_REQUIRED, Length(max=20_000)])
    category = SelectField(_l("Catégorie"), [_REQUIRED], choices=_choices(CATEGORY_LABELS))
    theme = SelectField(_l("Thème (facultatif)"), choices=[])
    scope = SelectField(_l("Portée"), [_REQUIRED], choices=_choices(SCOPE_LABELS))
    expires_at = FrenchDateField(_l("Jusqu'au"), [_REQUIRED])


class ContactForm(FlaskForm):
    message = TextAreaField(_l("Votre message"), [_REQUIRED, Length(max=5000)])
    mediation = BooleanField(
        _l("Nous souhaitons être accompagné·es par un·e médiateur·rice"),
        false_values=("false", "", "0"),
    )
    from_organisation = SelectField(_l("Au nom de"), choices=[], validate_choice=False)


class AnswerForm(FlaskForm):
    message = TextAreaField(_l("Votre message (facultatif)"), [Length(max=5000)])


class CloseForm(FlaskForm):
    outcome = RadioField(_l("Issue"), [_REQUIRED], choices=_choices(OUTCOME_LABELS))
    summary = TextAreaField(_l("Résumé pour les deux organisations"), [_REQUIRED])


class JoinForm(FlaskForm):
    message = TextAreaField(_l("Un mot pour les représentant·es (facultatif)"), [Length(max=2000)])


class MergeForm(FlaskForm):
    target = StringField(_l("Adresse courte (slug) de l'organisation à garder"), [_REQUIRED])
    reason = StringField(_l("Raison"), [Length(max=500)])


class MediatorForm(FlaskForm):
    username = StringField(_l("Pseudo du modérateur ou de la modératrice"), [_REQUIRED])
