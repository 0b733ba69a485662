"""Forms of following and notifications: watch level, mail preferences, confirmations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from forum.notifications.models import DELIVERY_LABELS, KIND_LABELS, Kind


class WatchForm(FlaskForm):
    level = StringField(
        _l("Niveau de suivi"), [InputRequired(_l("Choisissez un niveau de suivi.")), Length(max=10)]
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a button that changes something."""


def _delivery_choices():
    return [(delivery.value, label) for delivery, label in DELIVERY_LABELS.items()]


class PreferencesForm(FlaskForm):
    reply = SelectField(KIND_LABELS[Kind.REPLY], choices=_delivery_choices)
    mention = SelectField(KIND_LABELS[Kind.MENTION], choices=_delivery_choices)
    watched_post = SelectField(KIND_LABELS[Kind.WATCHED_POST], choices=_delivery_choices)
    new_thread = SelectField(KIND_LABELS[Kind.NEW_THREAD], choices=_delivery_choices)
    seminar = SelectField(KIND_LABELS[Kind.SEMINAR], choices=_delivery_choices)
    moderation = SelectField(KIND_LABELS[Kind.MODERATION], choices=_delivery_choices)
    message = SelectField(KIND_LABELS[Kind.MESSAGE], choices=_delivery_choices)
    directory = SelectField(KIND_LABELS[Kind.DIRECTORY], choices=_delivery_choices)
    reaction = SelectField(KIND_LABELS[Kind.REACTION], choices=_delivery_choices)
