"""The directory's pages: ``/directory/``, ``/organisations/…``, ``/offers/…``.

Contact requests and mediation have their own blueprint (:mod:`forum.directory.contact_views`).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.accounts.models import FAMILY_LABELS
from forum.directory import matching, queries, services, territories
from forum.directory.forms import JoinForm, MergeForm, OfferForm, OrganisationForm
from forum.directory.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    ORGANISATION_FAMILIES,
    Offer,
    OfferFollow,
    Organisation,
)
from forum.discussions.models import Theme
from forum.extensions import db
from forum.forms import form_page
from forum.pagination import paginate, parse_page
from forum.permissions import Action, ensure, memberships
from forum.refusals import Refused

bp = Blueprint("directory", __name__)


def _themes() -> list[Theme]:
    return list(
        db.session.execute(
            select(Theme).where(Theme.archived_at.is_(None)).order_by(Theme.position, Theme.name)
        ).scalars()
    )


def _filter_choices(themes: list[Theme]) -> dict:
    return {
        "families": [(f.value, str(FAMILY_LABELS[f])) for f in ORGANISATION_FAMILIES],
        "kinds": [(code, str(label)) for code, label in KIND_LABELS.items()],
        "regions": list(territories.regions().values()),
        "departements": list(territories.departements().values()),
        "themes": themes,
        "categories": [(code, str(label)) for code, label in CATEGORY_LABELS.items()],
    }


def _organisation(slug: str) -> Organisation:
    """The organisation of ``slug``. :raise 404: none."""
    organisation = db.session.execute(
        select(Organisation).where(Organisation.slug == slug[:100])
    ).scalar()
    if organisation is None:
        abort(404)
    return organisation


def _active_organisation(slug: str) -> Organisation:
    """:raise 404: none, or merged into another (write routes act on the survivor only)."""
    organisation = _organisation(slug)
    if organisation.merged_into_id is not None:
        abort(404)
    return organisation


def _offer(offer_id: int) -> Offer:
    offer = db.session.execute(
        select(Offer)
        .where(Offer.id == offer_id)
        .options(joinedload(Offer.organisation), joinedload(Offer.theme))
    ).scalar()
    if offer is None:
        abort(404)
    return offer


# --- The directory ----------------------------------------------------------------------


@bp.route("/directory/")
def index():
    themes = _themes()
    filters = queries.Filters.from_args(request.args, themes)
    page = paginate(
        queries.organisations(filters),
        parse_page(request.args.get("page")),
        current_app.config["FORUM_DIRECTORY_PER_PAGE"],
    )
    counts = queries.open_counts([org.id for org in page.items])
    return render_template(
        "directory/index.html",
        page=page,
        counts=counts,
        filters=filters,
        **_filter_choices(themes),
    )


@bp.route("/offers/")
def offers():
    themes = _themes()
    filters = queries.Filters.from_args(request.args, themes)
    page = paginate(
        queries.offers(filters),
        parse_page(request.args.get("page")),
        current_app.config["FORUM_DIRECTORY_PER_PAGE"],
    )
    return render_template(
        "directory/offers.html", page=page, filters=filters, **_filter_choices(themes)
    )


# --- Organisations ----------------------------------------------------------------------


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    ensure(current_user, Action.ORGANISATION_CREATE)
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(
                current_user,
                form.name.data,
                form.family.data,
                form.kind.data,
                form.region.data,
                form.departement.data,
                form.commune.data,
                form.description.data,
                form.website.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Organisation créée : vous en êtes le ou la représentant·e."), "success")
            return redirect(url_for(".organisation", slug=organisation.slug))
    return form_page("directory/organisation_form.html", form, organisation=None)


@bp.route("/organisations/<slug>")
def organisation(slug: str):
    organisation = _organisation(slug)
    if organisation.merged_into_id is not None:
        target = db.session.get(Organisation, organisation.merged_into_id)
        return redirect(url_for(".organisation", slug=target.slug), 301)
    members = queries.members_of(organisation.id)
    own = memberships(current_user).get(organisation.id) in ("representative", "member")
    offers = queries.offers_of(organisation.id, include_closed=own)
    return render_template(
        "directory/organisation.html",
        organisation=organisation,
        members=members,
        offers=[o for o in offers if not o.is_need],
        needs=[o for o in offers if o.is_need],
        threads=queries.member_threads(organisation.id, current_user),
        counts=queries.contact_counts(organisation.id),
        join_form=JoinForm(),
    )


#: The organisation form's fields, as the services take them.
ORGANISATION_FIELDS = (
    "name",
    "family",
    "kind",
    "region",
    "departement",
    "commune",
    "description",
    "website",
)


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    organisation = _active_organisation(slug)
    ensure(current_user, Action.ORGANISATION_EDIT, organisation)
    stored = {name: getattr(organisation, name, "") for name in ORGANISATION_FIELDS}
    stored["description"] = organisation.description_source
    form = OrganisationForm(data=None if request.method == "POST" else stored)
    if form.validate_on_submit():
        try:
            services.update_organisation(
                current_user,
                organisation,
                **{name: getattr(form, name).data for name in ORGANISATION_FIELDS},
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Organisation mise à jour."), "success")
            return redirect(url_for(".organisation", slug=organisation.slug))
    return form_page("directory/organisation_form.html", form, organisation=organisation)


def _back(organisation: Organisation, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for(".organisation", slug=organisation.slug))


def _refused(organisation: Organisation, exc: Refused):
    return _back(organisation, exc.message, "error")


@bp.route("/organisations/<slug>/join", methods=["POST"])
@login_required
def join(slug: str):
    organisation = _active_organisation(slug)
    form = JoinForm()
    if not form.validate_on_submit():
        abort(400)
    services.request_join(current_user, organisation, form.message.data)
    return _back(organisation, _("Demande envoyée : les représentant·es vont y répondre."))


@bp.route("/organisations/<slug>/leave", methods=["POST"])
@login_required
def leave(slug: str):
    organisation = _active_organisation(slug)
    try:
        services.leave(current_user, organisation)
    except Refused as exc:
        return _refused(organisation, exc)
    return _back(organisation, _("Vous ne faites plus partie de l'organisation."))


def _answer_join(slug: str, user_id: int, accept: bool):
    organisation = _active_organisation(slug)
    try:
        services.answer_join(current_user, organisation, user_id, accept)
    except Refused as exc:
        return _refused(organisation, exc)
    if accept:
        return _back(organisation, _("Demande acceptée : bienvenue dans l'organisation."))
    return _back(organisation, _("Demande déclinée."))


@bp.route("/organisations/<slug>/members/<int:user_id>/accept", methods=["POST"])
@login_required
def accept_member(slug: str, user_id: int):
    return _answer_join(slug, user_id, True)


@bp.route("/organisations/<slug>/members/<int:user_id>/decline", methods=["POST"])
@login_required
def decline_member(slug: str, user_id: int):
    return _answer_join(slug, user_id, False)


@bp.route("/organisations/<slug>/members/<int:user_id>/role", methods=["POST"])
@login_required
def member_role(slug: str, user_id: int):
    organisation = _active_organisation(slug)
    try:
        services.set_member_role(current_user, organisation, user_id, request.form.get("role", ""))
    except Refused as exc:
        return _refused(organisation, exc)
    return _back(organisation, _("Rôle mis à jour."))


@bp.route("/organisations/<slug>/members/<int:user_id>/hand-on", methods=["POST"])
@login_required
def hand_on(slug: str, user_id: int):
    organisation = _active_organisation(slug)
    try:
        services.hand_on(current_user, organisation, user_id)
    except Refused as exc:
        return _refused(organisation, exc)
    return _back(organisation, _("Vous avez confié le rôle de représentant·e."))


@bp.route("/organisations/<slug>/verify", methods=["POST"])
@login_required
def verify(slug: str):
    organisation = _active_organisation(slug)
    services.verify(current_user, organisation, True)
    return _back(organisation, _("Organisation vérifiée."))


@bp.route("/organisations/<slug>/unverify", methods=["POST"])
@login_required
def unverify(slug: str):
    organisation = _active_organisation(slug)
    services.verify(current_user, organisation, False)
    return _back(organisation, _("Badge « vérifiée » retiré."))


@bp.route("/organisations/<slug>/merge", methods=["GET", "POST"])
@login_required
def merge(slug: str):
    organisation = _active_organisation(slug)
    ensure(current_user, Action.ORGANISATION_MERGE, organisation)
    form = MergeForm()
    if form.validate_on_submit():
        target = db.session.execute(
            select(Organisation).where(Organisation.slug == form.target.data.strip()[:100])
        ).scalar()
        try:
            if target is None:
                raise Refused(_("Aucune organisation n'a cette adresse courte."))
            services.merge(current_user, organisation, target, form.reason.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            return _back(target, _("Organisations fusionnées."))
    return form_page("directory/merge.html", form, organisation=organisation)


# --- Offers and needs -------------------------------------------------------------------


def _offer_form(themes: list[Theme], **data) -> OfferForm:
    form = OfferForm(data=data or None)
    form.theme.choices = [("", _("Aucun"))] + [(t.slug, t.name) for t in themes]
    return form


@bp.route("/organisations/<slug>/offers/new", methods=["GET", "POST"])
@login_required
def new_offer(slug: str):
    organisation = _active_organisation(slug)
    ensure(current_user, Action.OFFER_CREATE, organisation)
    kind = request.args.get("kind")
    form = _offer_form(_themes(), **({"kind": kind} if kind in ("offer", "need") else {}))
    if form.validate_on_submit():
        try:
            offer = services.create_offer(
                current_user,
                organisation,
                form.kind.data,
                form.title.data,
                form.body.data,
                form.category.data,
                form.theme.data,
                form.scope.data,
                form.expires_at.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Publié. Voici ce qui pourrait y répondre."), "success")
            return redirect(url_for(".matches", offer_id=offer.id))
    return form_page("directory/offer_form.html", form, organisation=organisation, offer=None)


@bp.route("/offers/<int:offer_id>")
def offer(offer_id: int):
    offer = _offer(offer_id)
    following = False
    if current_user.is_authenticated:
        following = (
            db.session.execute(
                select(OfferFollow.id).where(
                    OfferFollow.offer_id == offer.id, OfferFollow.user_id == current_user.id
                )
            ).scalar()
            is not None
        )
    return render_template("directory/offer.html", offer=offer, following=following)


@bp.route("/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_offer(offer_id: int):
    offer = _offer(offer_id)
    ensure(current_user, Action.OFFER_EDIT, offer)
    themes = _themes()
    form = _offer_form(
        themes,
        **(
            {}
            if request.method == "POST"
            else {
                "kind": offer.kind,
                "title": offer.title,
                "body": offer.body_source,
                "category": offer.category,
                "theme": offer.theme.slug if offer.theme else "",
                "scope": offer.scope,
                "expires_at": offer.expires_at,
            }
        ),
    )
    form.kind.data = offer.kind  # the kind stays
    if form.validate_on_submit():
        try:
            services.update_offer(
                current_user,
                offer,
                title=form.title.data,
                body=form.body.data,
                category=form.category.data,
                theme=form.theme.data,
                scope=form.scope.data,
                expires_at=form.expires_at.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Modifications enregistrées."), "success")
            return redirect(url_for(".offer", offer_id=offer.id))
    return form_page(
        "directory/offer_form.html", form, organisation=offer.organisation, offer=offer
    )


@bp.route("/offers/<int:offer_id>/close", methods=["POST"])
@login_required
def close_offer(offer_id: int):
    offer = _offer(offer_id)
    try:
        services.close_offer(current_user, offer, request.form.get("status", ""))
    except Refused as exc:
        flash(exc.message, "error")
    else:
        flash(_("C'est noté : ce n'est plus proposé dans l'annuaire."), "success")
    return redirect(url_for(".offer", offer_id=offer.id))


@bp.route("/offers/<int:offer_id>/follow", methods=["POST"])
@login_required
def follow(offer_id: int):
    offer = _offer(offer_id)
    services.follow_offer(current_user, offer, True)
    flash(_("Vous serez prévenu·e des nouvelles correspondances."), "success")
    return redirect(url_for(".offer", offer_id=offer.id))


@bp.route("/offers/<int:offer_id>/unfollow", methods=["POST"])
@login_required
def unfollow(offer_id: int):
    offer = _offer(offer_id)
    services.follow_offer(current_user, offer, False)
    flash(_("Vous ne suivez plus les nouvelles correspondances."), "success")
    return redirect(url_for(".offer", offer_id=offer.id))


@bp.route("/offers/<int:offer_id>/matches")
def matches(offer_id: int):
    offer = _offer(offer_id)
    found = queries.matches_for(offer) if offer.is_open else []
    return render_template(
        "directory/matches.html", offer=offer, found=found, explain=matching.explain
    )
