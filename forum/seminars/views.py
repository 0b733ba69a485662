"""Seminar and session pages, organisers' forms, registration, calendars and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from forum.db import utcnow
from forum.debate import synthesis as debate_synthesis
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.forms import form_page
from forum.permissions import Action, can, ensure, visible_seminars
from forum.refusals import Refused
from forum.seminars import ical, services
from forum.seminars.forms import (
    AttendanceForm,
    FollowUpForm,
    LinkThreadForm,
    MinutesForm,
    RegisterForm,
    SeminarForm,
    SessionForm,
)
from forum.seminars.models import (
    Registration,
    RegistrationStatus,
    Seminar,
    SeminarStatus,
    Session,
    SessionKind,
    SessionThread,
)

bp = Blueprint("seminars", __name__)


def _seminar_or_404(seminar_id: int, *, programme: bool = False) -> Seminar:
    options = [selectinload(Seminar.sessions).joinedload(Session.theme)] if programme else []
    seminar = db.session.get(Seminar, seminar_id, options=options)
    if seminar is None or not can(current_user, Action.SEMINAR_VIEW, seminar):
        abort(404)
    return seminar


def _session_or_404(session_id: int) -> Session:
    session = db.session.get(
        Session,
        session_id,
        options=[joinedload(Session.seminar), joinedload(Session.theme)],
    )
    if session is None or not can(current_user, Action.SEMINAR_VIEW, session.seminar):
        abort(404)
    return session


def _utc(value: datetime | None) -> datetime | None:
    return services.from_paris(value) if value else None


def _local(value: datetime | None) -> datetime | None:
    return services.to_paris(value).replace(tzinfo=None) if value else None


def _visible_seminars():
    return visible_seminars(select(Seminar).options(selectinload(Seminar.sessions)), current_user)


@bp.route("/seminars/")
def index():
    now = utcnow()
    upcoming = db.session.execute(
        _visible_seminars().where(Seminar.ends_at > now).order_by(Seminar.starts_at)
    ).scalars()
    past = db.session.execute(
        _visible_seminars().where(Seminar.ends_at <= now).order_by(Seminar.starts_at.desc())
    ).scalars()
    return render_template("seminars/index.html", upcoming=list(upcoming), past=list(past))


@bp.route("/seminars/<int:seminar_id>")
def seminar(seminar_id: int):
    seminar = _seminar_or_404(seminar_id, programme=True)
    registration = services.registration_of(current_user, seminar)
    form = RegisterForm(formdata=None)
    form.workshops.choices = [
        SelectChoice(s.id, s.title) for s in seminar.sessions if s.is_workshop
    ]
    return render_template(
        "seminars/seminar.html",
        seminar=seminar,
        registration=registration,
        register_form=form,
        chosen={c.session_id: c for c in registration.choices} if registration else {},
    )


def _seminar_fields(form: SeminarForm) -> dict:
    return {
        "title": form.title.data,
        "description": form.description.data or "",
        "venue": form.venue.data or "",
        "address": form.address.data or "",
        "starts_at": _utc(form.starts_at.data),
        "ends_at": _utc(form.ends_at.data),
        "capacity": form.capacity.data,
        "registration_closes_at": _utc(form.registration_closes_at.data),
        "status": form.status.data,
    }


@bp.route("/seminars/new", methods=["GET", "POST"])
@login_required
def new_seminar():
    ensure(current_user, Action.SEMINAR_MANAGE)
    form = SeminarForm()
    if form.validate_on_submit():
        try:
            seminar = services.save_seminar(current_user, None, **_seminar_fields(form))
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Séminaire enregistré."), "success")
            return redirect(url_for(".seminar", seminar_id=seminar.id))
    return form_page("seminars/form.html", form, heading=_("Nouveau séminaire"), seminar=None)


@bp.route("/seminars/<int:seminar_id>/edit", methods=["GET", "POST"])
@login_required
def edit_seminar(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    ensure(current_user, Action.SEMINAR_MANAGE, seminar)
    form = SeminarForm(
        data={
            "title": seminar.title,
            "description": seminar.description_source,
            "venue": seminar.venue,
            "address": seminar.address,
            "starts_at": _local(seminar.starts_at),
            "ends_at": _local(seminar.ends_at),
            "capacity": seminar.capacity,
            "registration_closes_at": _local(seminar.registration_closes_at),
            "status": seminar.status,
        }
    )
    if form.validate_on_submit():
        try:
            services.save_seminar(current_user, seminar, **_seminar_fields(form))
        except Refused as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Séminaire enregistré."), "success")
            return redirect(url_for(".seminar", seminar_id=seminar.id))
    return form_page(
        "seminars/form.html", form, heading=_("Modifier le séminaire"), seminar=seminar
    )


def _session_form(**kwargs) -> SessionForm:
    form = SessionForm(**kwargs)
    themes = db.session.execute(
        select(Theme).where(Theme.archived_at.is_(None)).order_by(Theme.position, Theme.name)
    ).scalars()
    form.theme.choices = [SelectChoice("", _("— aucun —"))] + [
        SelectChoice(t.slug, t.name) for t in themes
    ]
    return form


def _session_fields(form: SessionForm) -> dict:
    theme = None
    if form.theme.data:
        theme = db.session.execute(select(Theme).where(Theme.slug == form.theme.data)).scalar()
    return {
        "title": form.title.data,
        "kind": form.kind.data,
        "starts_at": _utc(form.starts_at.data),
        "ends_at": _utc(form.ends_at.data),
        "room": form.room.data or "",
        "theme": theme,
        "speakers": form.speakers.data or "",
        "description": form.description.data or "",
        "capacity": form.capacity.data,
    }


@bp.route("/seminars/<int:seminar_id>/sessions/new", methods=["GET", "POST"])
@login_required
def new_session(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    ensure(current_user, Action.SEMINAR_MANAGE, seminar)
    form = _session_form()
    if request.method == "GET" and not form.starts_at.data:
        form.starts_at.data = _local(seminar.starts_at)
        form.ends_at.data = _local(seminar.starts_at)
    if form.validate_on_submit():
        try:
            session = services.save_session(current_user, seminar, None, **_session_fields(form))
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Séance enregistrée."), "success")
            return redirect(url_for(".session", session_id=session.id))
    return form_page("seminars/form.html", form, heading=_("Nouvelle séance"), seminar=seminar)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id: int):
    session = _session_or_404(session_id)
    ensure(current_user, Action.SEMINAR_MANAGE, session.seminar)
    form = _session_form(
        data={
            "title": session.title,
            "kind": session.kind,
            "starts_at": _local(session.starts_at),
            "ends_at": _local(session.ends_at),
            "room": session.room,
            "theme": session.theme.slug if session.theme else "",
            "speakers": session.speakers,
            "description": session.description_source,
            "capacity": session.capacity,
        }
    )
    if form.validate_on_submit():
        try:
            services.save_session(current_user, session.seminar, session, **_session_fields(form))
        except Refused as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Séance enregistrée."), "success")
            return redirect(url_for(".session", session_id=session.id))
    return form_page(
        "seminars/form.html", form, heading=_("Modifier la séance"), seminar=session.seminar
    )


@bp.post("/seminars/<int:seminar_id>/register")
@login_required
def register(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    form = RegisterForm()
    form.workshops.choices = [
        SelectChoice(s.id, s.title)
        for s in db.session.execute(
            select(Session).where(
                Session.seminar_id == seminar.id, Session.kind == SessionKind.WORKSHOP
            )
        ).scalars()
    ]
    if not form.validate_on_submit():
        abort(400, _("Les ateliers choisis ne font pas partie de ce séminaire."))
    try:
        services.check_open(seminar)
    except Refused as exc:
        abort(403, exc.message)
    try:
        registration = services.register(current_user, seminar, form.workshops.data or [])
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".seminar", seminar_id=seminar.id)), 303
    if registration.status == RegistrationStatus.CONFIRMED:
        waiting = [c for c in registration.choices if c.status == RegistrationStatus.WAITING]
        flash(_("Votre inscription est confirmée. À bientôt !"), "success")
        if waiting:
            flash(
                _(
                    "Certains ateliers choisis sont complets : vous êtes sur leur liste "
                    "d'attente, et recevrez la place dès qu'elle se libère."
                ),
                "info",
            )
    else:
        flash(
            _(
                "Le séminaire est complet : vous êtes sur la liste d'attente. Dès qu'une place "
                "se libère, elle vous revient automatiquement, dans l'ordre d'inscription."
            ),
            "info",
        )
    return redirect(url_for(".seminar", seminar_id=seminar.id))


@bp.post("/seminars/<int:seminar_id>/unregister")
@login_required
def unregister(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    try:
        services.unregister(current_user, seminar)
    except Refused as exc:
        flash(exc.message, "error")
    else:
        flash(_("Votre inscription est annulée."), "info")
    return redirect(url_for(".seminar", seminar_id=seminar.id))


@bp.route("/seminars/<int:seminar_id>/registrations")
@login_required
def registrations(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    ensure(current_user, Action.SEMINAR_MANAGE, seminar)
    return render_template(
        "seminars/registrations.html",
        seminar=seminar,
        registrations=services.registrations(seminar),
        attendance_form=AttendanceForm(formdata=None),
    )


@bp.route("/seminars/<int:seminar_id>/registrations.csv")
@login_required
def registrations_csv(seminar_id: int):
    seminar = _seminar_or_404(seminar_id)
    ensure(current_user, Action.SEMINAR_MANAGE, seminar)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "organisation", "family", "status", "attendance"])
    for reg in services.registrations(seminar):
        attended = {True: "yes", False: "no", None: ""}[reg.attended]
        row = [reg.user.name, reg.user.email, reg.user.organisation, reg.user.family or ""]
        # Spreadsheets run cells starting with these as formulas: neutralise them.
        row = ["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in row]
        writer.writerow([*row, reg.status, attended])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="inscriptions-{seminar.id}.csv"'},
    )


@bp.post("/registrations/<int:registration_id>/attendance")
@login_required
def attendance(registration_id: int):
    registration = db.session.get(
        Registration, registration_id, options=[joinedload(Registration.seminar)]
    )
    if registration is None:
        abort(404)
    ensure(current_user, Action.SEMINAR_MANAGE, registration.seminar)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    services.mark_attendance(
        current_user, registration, {"yes": True, "no": False}.get(form.attended.data)
    )
    flash(_("Présence enregistrée."), "success")
    return redirect(url_for(".registrations", seminar_id=registration.seminar_id))


# -- sessions --------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>")
def session(session_id: int):
    session = _session_or_404(session_id)
    links = db.session.execute(
        select(SessionThread)
        .join(SessionThread.thread)
        .options(
            joinedload(SessionThread.thread).joinedload(Thread.last_post_author),
        )
        .where(SessionThread.session_id == session.id)
        .order_by(SessionThread.kind, Thread.last_post_at.desc())
    ).scalars()
    links = list(links)
    follow_up_ids = [link.thread_id for link in links if link.kind == "follow_up"]
    return render_template(
        "seminars/session.html",
        syntheses=_follow_up_syntheses(follow_up_ids),
        synthesis_titles=debate_synthesis.section_titles(),
        session=session,
        seminar=session.seminar,
        preparation=[link for link in links if link.kind == "preparation"],
        follow_up=[link for link in links if link.kind == "follow_up"],
        thread_form=FollowUpForm(formdata=None),
        minutes_form=MinutesForm(formdata=None, data={"minutes": session.minutes_source}),
        link_form=LinkThreadForm(formdata=None),
    )


def _follow_up_syntheses(thread_ids: list[int]) -> dict[int, dict]:
    """The published syntheses of the follow-up threads, by thread id (two queries at most)."""
    found = debate_synthesis.published_for_threads(thread_ids)
    rendered = debate_synthesis.render_many(list(found.values()), current_user)
    return {thread_id: rendered[synthesis.id] for thread_id, synthesis in found.items()}


def _thread_page(session: Session, service, heading: str):
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            thread = service(current_user, session, form.title.data, form.body.data)
        except Refused as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            return redirect(url_for("discussions.thread", thread_id=thread.id))
    return form_page("seminars/thread_form.html", form, session=session, heading=heading)


@bp.route("/sessions/<int:session_id>/follow-up", methods=["GET", "POST"])
@login_required
def follow_up(session_id: int):
    """Organisers: open a thread in the session's theme, linked as suite."""
    session = _session_or_404(session_id)
    ensure(current_user, Action.SESSION_FOLLOW_UP, session)
    return _thread_page(session, services.open_follow_up, _("Continuer la discussion"))


@bp.route("/sessions/<int:session_id>/prepare", methods=["GET", "POST"])
@login_required
def prepare(session_id: int):
    """Members: open a préparation thread for a session still to come."""
    session = _session_or_404(session_id)
    ensure(current_user, Action.SESSION_PREPARE, session)
    return _thread_page(session, services.open_preparation, _("Préparer la séance"))


@bp.route("/sessions/<int:session_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(session_id: int):
    session = _session_or_404(session_id)
    ensure(current_user, Action.SESSION_FOLLOW_UP, session)
    form = MinutesForm(data={"minutes": session.minutes_source})
    if form.validate_on_submit():
        try:
            services.publish_minutes(current_user, session, form.minutes.data)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Compte rendu publié."), "success")
            return redirect(url_for(".session", session_id=session.id))
    return form_page("seminars/form.html", form, heading=_("Compte rendu"), seminar=session.seminar)


@bp.post("/sessions/<int:session_id>/link")
@login_required
def link(session_id: int):
    """Organisers: link an existing thread to the session."""
    session = _session_or_404(session_id)
    ensure(current_user, Action.SESSION_FOLLOW_UP, session)
    form = LinkThreadForm()
    thread = db.session.get(Thread, form.thread_id.data or 0) if form.validate() else None
    if thread is None:
        flash(_("Ce fil n'existe pas : vérifiez son numéro (dans son adresse)."), "error")
    else:
        services.link_thread(current_user, session, thread, form.kind.data)
        flash(_("Fil lié à la séance."), "success")
    return redirect(url_for(".session", session_id=session.id))


# -- calendars -------------------------------------------------------------------------------


def _ics(sessions, name: str, filename: str) -> Response:
    body = ical.build_calendar(
        sessions,
        name=name,
        host=request.host.split(":")[0] or "localhost",
        url_for_session=lambda s: url_for(".session", session_id=s.id, _external=True),
        stamp=datetime.now(UTC).replace(microsecond=0),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.route("/seminars/<int:seminar_id>.ics")
def seminar_ics(seminar_id: int):
    seminar = _seminar_or_404(seminar_id, programme=True)
    return _ics(seminar.sessions, seminar.title, f"seminaire-{seminar.id}.ics")


@bp.route("/seminars.ics")
def all_ics():
    sessions = db.session.execute(
        select(Session)
        .join(Session.seminar)
        .options(joinedload(Session.seminar))
        .where(
            Seminar.status.in_([SeminarStatus.PUBLISHED, SeminarStatus.CANCELLED]),
            Session.ends_at > utcnow(),
        )
        .order_by(Session.starts_at, Session.id)
    ).scalars()
    return _ics(list(sessions), current_app.config["FORUM_SITE_NAME"], "seminaires.ics")
