"""*Mises en relation*: asking, answering, the mediators' queue, the admin report.

``/offers/<id>/contact``, ``/organisations/<slug>/contact``, ``/contacts/<id>`` and its
POST actions, ``/mediation/``, ``/admin/mise-en-relation`` and ``/admin/mediateurs``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.accounts.services import username_key
from forum.directory import contacts
from forum.directory.forms import AnswerForm, CloseForm, ContactForm, MediatorForm
from forum.directory.models import ContactRequest, Mediator, MemberRole, Offer, Organisation
from forum.directory.views import _active_organisation, _offer
from forum.extensions import db
from forum.forms import form_page
from forum.permissions import Action, ensure, memberships
from forum.refusals import Refused

bp = Blueprint("contacts", __name__)


def _sources(target_id: int) -> list[tuple[str, str]]:
    """The viewer's organisations they may ask for (representatives' first)."""
    roles = {
        org_id: role
        for org_id, role in memberships(current_user).items()
        if role in (MemberRole.REPRESENTATIVE, MemberRole.MEMBER) and org_id != target_id
    }
    if not roles:
        return []
    rows = db.session.execute(
        select(Organisation).where(
            Organisation.id.in_(list(roles)), Organisation.merged_into_id.is_(None)
        )
    ).scalars()
    ordered = sorted(rows, key=lambda o: (roles[o.id] != MemberRole.REPRESENTATIVE, o.name, o.id))
    return [(org.slug, org.name) for org in ordered]


def _ask(target: Organisation, offer: Offer | None):
    form = ContactForm()
    form.from_organisation.choices = _sources(target.id)
    if form.validate_on_submit():
        try:
            request = contacts.request_contact(
                current_user,
                target,
                form.message.data,
                mediation=form.mediation.data,
                offer=offer,
                from_organisation=form.from_organisation.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Demande envoyée : les représentant·es de %(name)s sont prévenu·es.",
                    name=target.name), "success")  # fmt: skip
            return redirect(url_for(".contact", contact_id=request.id))
    return form_page("directory/contact_form.html", form, target=target, offer=offer)


@bp.route("/offers/<int:offer_id>/contact", methods=["GET", "POST"])
@login_required
def contact_offer(offer_id: int):
    offer = _offer(offer_id)
    ensure(current_user, Action.OFFER_CONTACT, offer)
    return _ask(offer.organisation, offer)


@bp.route("/organisations/<slug>/contact", methods=["GET", "POST"])
@login_required
def contact_organisation(slug: str):
    organisation = _active_organisation(slug)
    ensure(current_user, Action.ORGANISATION_CONTACT, organisation)
    return _ask(organisation, None)


def _request(contact_id: int) -> ContactRequest:
    """The request, if the viewer may see it. :raise 404: none, or not theirs to see."""
    request = db.session.execute(
        select(ContactRequest)
        .where(ContactRequest.id == contact_id)
        .options(
            joinedload(ContactRequest.from_organisation),
            joinedload(ContactRequest.to_organisation),
            joinedload(ContactRequest.offer),
            joinedload(ContactRequest.requester),
            joinedload(ContactRequest.mediator),
        )
    ).scalar()
    if request is None or not current_user.is_authenticated:
        abort(404)
    ensure(current_user, Action.CONTACT_VIEW, request)
    return request


@bp.route("/contacts/<int:contact_id>")
@login_required
def contact(contact_id: int):
    request = _request(contact_id)
    return render_template(
        "directory/contact.html",
        request=request,
        answer_form=AnswerForm(),
        close_form=CloseForm(),
    )


def _done(request: ContactRequest, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for(".contact", contact_id=request.id))


def _answer_form(request: ContactRequest) -> AnswerForm:
    """The answer's form, once the viewer's right to answer is checked. :raise 400: too long."""
    ensure(current_user, Action.CONTACT_ANSWER, request)
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400, description=_("Le message est trop long (5 000 caractères au plus)."))
    return form


@bp.route("/contacts/<int:contact_id>/accept", methods=["POST"])
@login_required
def accept(contact_id: int):
    request = _request(contact_id)
    form = _answer_form(request)
    contacts.accept(current_user, request, form.message.data)
    if request.conversation_id is None:
        return _done(request, _("Demande acceptée : la personne qui l'a faite est prévenue."))
    return _done(request, _("Demande acceptée : une conversation privée est ouverte."))


@bp.route("/contacts/<int:contact_id>/decline", methods=["POST"])
@login_required
def decline(contact_id: int):
    request = _request(contact_id)
    form = _answer_form(request)
    contacts.decline(current_user, request, form.message.data)
    return _done(request, _("Demande déclinée : la personne qui l'a faite est prévenue."))


@bp.route("/contacts/<int:contact_id>/mediation", methods=["POST"])
@login_required
def ask_mediation(contact_id: int):
    request = _request(contact_id)
    contacts.ask_mediation(current_user, request)
    return _done(request, _("La demande est confiée aux médiateur·rices."))


@bp.route("/contacts/<int:contact_id>/take", methods=["POST"])
@login_required
def take(contact_id: int):
    request = _request(contact_id)
    contacts.take(current_user, request)
    return _done(request, _("Vous accompagnez désormais cette mise en relation."))


@bp.route("/contacts/<int:contact_id>/close", methods=["POST"])
@login_required
def close(contact_id: int):
    request = _request(contact_id)
    ensure(current_user, Action.CONTACT_CLOSE, request)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            contacts.close(current_user, request, form.outcome.data, form.summary.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            return _done(request, _("Médiation close."))
    return form_page(
        "directory/contact.html", form, request=request, answer_form=AnswerForm(), close_form=form
    )


@bp.route("/mediation/")
@login_required
def mediation():
    ensure(current_user, Action.MEDIATION_QUEUE)
    options = (
        joinedload(ContactRequest.from_organisation),
        joinedload(ContactRequest.to_organisation),
        joinedload(ContactRequest.offer),
    )
    waiting = db.session.execute(
        select(ContactRequest)
        .where(
            ContactRequest.mediation.is_(True),
            ContactRequest.mediator_id.is_(None),
            ContactRequest.closed_at.is_(None),
        )
        .options(*options)
        .order_by(ContactRequest.mediation_asked_at, ContactRequest.id)
        .limit(200)
    ).scalars()
    mine = db.session.execute(
        select(ContactRequest)
        .where(ContactRequest.mediator_id == current_user.id)
        .options(*options)
        .order_by(ContactRequest.closed_at.is_not(None), ContactRequest.taken_at.desc())
        .limit(200)
    ).scalars()
    return render_template("directory/mediation.html", waiting=list(waiting), mine=list(mine))


@bp.route("/admin/mise-en-relation")
@login_required
def report():
    ensure(current_user, Action.CONTACT_REPORT)
    return render_template("directory/report.html", report=contacts.report())


@bp.route("/admin/mediateurs", methods=["GET", "POST"])
@login_required
def mediators():
    ensure(current_user, Action.MEDIATOR_SET)
    form = MediatorForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.username_key == username_key(form.username.data.strip()))
        ).scalar()
        try:
            if user is None:
                raise Refused(_("Aucun compte ne porte ce pseudo."))
            contacts.set_mediator(current_user, user, True)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("%(name)s est désormais médiateur·rice.", name=user.username), "success")
            return redirect(url_for(".mediators"))
    rows = db.session.execute(
        select(User).join(Mediator, Mediator.user_id == User.id).order_by(User.username)
    ).scalars()
    return form_page("directory/mediators.html", form, mediators=list(rows))


@bp.route("/admin/mediateurs/<int:user_id>/revoke", methods=["POST"])
@login_required
def revoke_mediator(user_id: int):
    ensure(current_user, Action.MEDIATOR_SET)
    user = db.session.get(User, user_id) or abort(404)
    contacts.set_mediator(current_user, user, False)
    flash(_("%(name)s n'est plus médiateur·rice.", name=user.username), "success")
    return redirect(url_for(".mediators"))
