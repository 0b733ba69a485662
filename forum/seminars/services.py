"""Writes on seminars, sessions, registrations and thread links: one call, one transaction.

Every change of seats starts by locking the seminar's row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite every write transaction is ``BEGIN IMMEDIATE`` already), then moves
the counters with conditional updates (``WHERE seats_taken < capacity``): the database,
not Python, decides who gets the last seat. A refusal raises :class:`Refused`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.notifications import fanout
from forum.notifications.models import SeminarEvent
from forum.pages.versions import touch
from forum.permissions import Action, ensure
from forum.refusals import Refused
from forum.search import services as search
from forum.seminars.models import (
    LinkKind,
    Registration,
    RegistrationStatus,
    Seminar,
    SeminarStatus,
    Session,
    SessionKind,
    SessionThread,
    WorkshopChoice,
)

PARIS = ZoneInfo("Europe/Paris")
ACTIVE = (RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITING.value)


def from_paris(local: datetime) -> datetime:
    """A wall-clock time in Paris (naive) -> naive UTC, as stored."""
    return local.replace(tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def to_paris(value: datetime) -> datetime:
    """A stored naive UTC datetime -> aware Europe/Paris datetime."""
    return value.replace(tzinfo=UTC).astimezone(PARIS)


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Refused(_("La fin doit venir après le début : vérifiez les dates et les heures."))


# -- seminars and sessions -------------------------------------------------------------------


def save_seminar(
    actor: User,
    seminar: Seminar | None,
    *,
    title: str,
    description: str,
    venue: str,
    address: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int | None,
    registration_closes_at: datetime | None,
    status: str,
) -> Seminar:
    """Create (``seminar`` None) or update a seminar; times are naive UTC.

    Raising the capacity promotes the waiting list.

    :raise Refused: end before start, capacity below the confirmed registrations.
    :raise 403: ``actor`` is not an organiser.
    """
    ensure(actor, Action.SEMINAR_MANAGE, seminar)
    _check_times(starts_at, ends_at)
    title = discussions.check_title(title)
    if seminar is None:
        seminar = Seminar(created_by_id=actor.id, seats_taken=0)
        db.session.add(seminar)
    else:
        _lock(seminar)
        db.session.refresh(seminar)
        if capacity is not None and capacity < seminar.seats_taken:
            raise Refused(
                _(
                    "%(taken)d inscriptions sont déjà confirmées : la capacité ne peut pas "
                    "descendre en dessous.",
                    taken=seminar.seats_taken,
                )
            )
    seminar.title = title
    seminar.description_source = description.strip()
    seminar.description_html = content.render_markdown(description) if description.strip() else ""
    seminar.render_version = content.RENDER_VERSION
    seminar.venue = venue.strip()
    seminar.address = address.strip()
    seminar.starts_at, seminar.ends_at = starts_at, ends_at
    seminar.capacity = capacity
    seminar.registration_closes_at = registration_closes_at
    cancelled = seminar.status == SeminarStatus.PUBLISHED and status == SeminarStatus.CANCELLED
    seminar.status = SeminarStatus(status).value
    db.session.flush()
    search.index_seminar(seminar)
    promoted = _promote(seminar)
    touch(site=True)  # the home page, and threads linked to its sessions
    if promoted:
        fanout.notify_seminar(promoted, SeminarEvent.PROMOTED, seminar=seminar)
    if cancelled:
        fanout.notify_seminar(
            _active_registrants(seminar.id), SeminarEvent.CANCELLED, seminar=seminar
        )
    db.session.commit()
    return seminar


def save_session(
    actor: User,
    seminar: Seminar,
    session: Session | None,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    room: str,
    theme: Theme | None,
    speakers: str,
    description: str,
    capacity: int | None,
) -> Session:
    """Create (``session`` None) or update a session of ``seminar``.

    :raise Refused: end before start, capacity below the confirmed choices.
    :raise 403: ``actor`` is not an organiser.
    """
    ensure(actor, Action.SEMINAR_MANAGE, seminar)
    _check_times(starts_at, ends_at)
    title = discussions.check_title(title)
    if session is None:
        session = Session(seminar=seminar, seats_taken=0)
        db.session.add(session)
    else:
        _lock(seminar)
        db.session.refresh(session)
        if capacity is not None and capacity < session.seats_taken:
            raise Refused(
                _(
                    "%(taken)d participant·es ont déjà une place dans cet atelier : la capacité "
                    "ne peut pas descendre en dessous.",
                    taken=session.seats_taken,
                )
            )
    session.title = title
    session.kind = SessionKind(kind).value
    session.starts_at, session.ends_at = starts_at, ends_at
    session.room = room.strip()
    session.theme = theme
    session.speakers = "\n".join(line.strip() for line in speakers.splitlines() if line.strip())
    session.description_source = description.strip()
    session.description_html = content.render_markdown(description) if description.strip() else ""
    session.render_version = content.RENDER_VERSION
    session.capacity = capacity
    db.session.flush()
    search.index_session(session)
    _promote_workshop(session.id)
    touch(site=True)  # threads linked to it show its title and date
    db.session.commit()
    return session


def publish_minutes(actor: User, session: Session, minutes: str) -> Session:
    """Publish (or correct) a session's minutes, then invite registrants to continue.

    :raise Refused: empty or oversized minutes.
    :raise 403: ``actor`` is not an organiser.
    """
    ensure(actor, Action.SESSION_FOLLOW_UP, session)
    minutes = discussions.check_body(minutes)
    first_time = session.minutes_published_at is None
    session.minutes_source = minutes
    session.minutes_html = content.render_markdown(minutes)
    session.render_version = content.RENDER_VERSION
    if first_time:
        session.minutes_published_at = utcnow()
    search.index_session(session)
    if first_time:
        invite_to_continue(session, minutes=True)
    db.session.commit()
    return session


# -- registration ----------------------------------------------------------------------------


def _lock(seminar: Seminar) -> None:
    """Serialise seat changes of one seminar (and of its workshops) until commit."""
    db.session.execute(select(Seminar.id).where(Seminar.id == seminar.id).with_for_update())


def _take_seminar_seat(seminar_id: int) -> bool:
    result = db.session.execute(
        update(Seminar)
        .where(
            Seminar.id == seminar_id,
            or_(Seminar.capacity.is_(None), Seminar.seats_taken < Seminar.capacity),
        )
        .values(seats_taken=Seminar.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _take_workshop_seat(session_id: int) -> bool:
    result = db.session.execute(
        update(Session)
        .where(
            Session.id == session_id,
            or_(Session.capacity.is_(None), Session.seats_taken < Session.capacity),
        )
        .values(seats_taken=Session.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _free_seminar_seat(seminar_id: int) -> None:
    db.session.execute(
        update(Seminar)
        .where(Seminar.id == seminar_id)
        .values(seats_taken=Seminar.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def _free_workshop_seat(session_id: int) -> None:
    db.session.execute(
        update(Session)
        .where(Session.id == session_id)
        .values(seats_taken=Session.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def registration_of(user, seminar: Seminar) -> Registration | None:
    """``user``'s registration row for ``seminar`` (any status), with its choices."""
    if not user.is_authenticated:
        return None
    return (
        db.session.execute(
            select(Registration)
            .options(joinedload(Registration.choices))
            .where(Registration.seminar_id == seminar.id, Registration.user_id == user.id)
        )
        .unique()
        .scalar()
    )


def check_open(seminar: Seminar) -> None:
    """:raise Refused: registration is not possible now, with the reason."""
    now = utcnow()
    if seminar.status == SeminarStatus.CANCELLED:
        raise Refused(_("Ce séminaire est annulé : les inscriptions sont fermées."))
    if seminar.status != SeminarStatus.PUBLISHED:
        raise Refused(
            _("Ce séminaire n'est pas encore publié : les inscriptions ouvriront bientôt.")
        )
    if seminar.ends_at <= now:
        raise Refused(_("Ce séminaire a déjà eu lieu : on ne peut plus s'y inscrire."))
    if seminar.registration_opens_at and now < seminar.registration_opens_at:
        raise Refused(_("Les inscriptions ne sont pas encore ouvertes."))
    if seminar.registration_closes_at and now >= seminar.registration_closes_at:
        raise Refused(_("Les inscriptions à ce séminaire sont closes."))


def register(user: User, seminar: Seminar, workshop_ids: Iterable[int] = ()) -> Registration:
    """Register ``user``: a seat if one is left, else the waiting list; same for workshops.

    :raise Refused: registration closed, seminar cancelled or past, already registered,
        a workshop that is not one of this seminar's.
    :raise 403: ``user`` is not logged in.
    """
    ensure(user, Action.SEMINAR_REGISTER, seminar)
    check_open(seminar)
    wanted = set(workshop_ids)
    workshops = (
        db.session.execute(
            select(Session.id).where(
                Session.seminar_id == seminar.id,
                Session.kind == SessionKind.WORKSHOP,
                Session.id.in_(wanted),
            )
        )
        .scalars()
        .all()
        if wanted
        else []
    )
    if len(workshops) != len(wanted):
        raise Refused(_("Un des ateliers choisis n'appartient pas à ce séminaire."))

    _lock(seminar)
    registration = registration_of(user, seminar)
    if registration is not None and registration.status in ACTIVE:
        raise Refused(_("Vous êtes déjà inscrit·e à ce séminaire."))
    confirmed = _take_seminar_seat(seminar.id)
    status = RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITING
    now = utcnow()
    if registration is None:
        registration = Registration(seminar_id=seminar.id, user_id=user.id)
        db.session.add(registration)
    else:
        for choice in registration.choices:
            db.session.delete(choice)
        registration.attended = None
    registration.status = status.value
    registration.queued_at = now
    try:
        db.session.flush()
    except IntegrityError:  # the same member, twice at the same instant
        db.session.rollback()
        raise Refused(_("Vous êtes déjà inscrit·e à ce séminaire.")) from None
    for session_id in sorted(workshops):
        seat = confirmed and _take_workshop_seat(session_id)
        db.session.add(
            WorkshopChoice(
                registration_id=registration.id,
                session_id=session_id,
                status=(RegistrationStatus.CONFIRMED if seat else RegistrationStatus.WAITING).value,
                queued_at=now,
            )
        )
    db.session.commit()
    return registration


def unregister(user: User, seminar: Seminar) -> Registration:
    """Cancel ``user``'s registration; the first on the waiting list takes the seat.

    :raise Refused: not registered.
    """
    _lock(seminar)
    registration = registration_of(user, seminar)
    if registration is None or registration.status not in ACTIVE:
        raise Refused(_("Vous n'êtes pas inscrit·e à ce séminaire."))
    freed_workshops = []
    for choice in registration.choices:
        if choice.status == RegistrationStatus.CONFIRMED:
            _free_workshop_seat(choice.session_id)
            freed_workshops.append(choice.session_id)
        choice.status = RegistrationStatus.CANCELLED.value
    if registration.status == RegistrationStatus.CONFIRMED:
        _free_seminar_seat(seminar.id)
    registration.status = RegistrationStatus.CANCELLED.value
    db.session.flush()
    promoted = _promote(seminar)
    for session_id in freed_workshops:
        _promote_workshop(session_id)
    if promoted:
        fanout.notify_seminar(promoted, SeminarEvent.PROMOTED, seminar=seminar)
    db.session.commit()
    return registration


def _promote(seminar: Seminar) -> list[int]:
    """Give free seats to the waiting list, first come first served (seminar row locked).

    Returns the ids of the members promoted (told in the same transaction).
    """
    promoted: list[int] = []
    while True:
        waiting = db.session.execute(
            select(Registration)
            .where(
                Registration.seminar_id == seminar.id,
                Registration.status == RegistrationStatus.WAITING,
            )
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
        ).scalar()
        if waiting is None or not _take_seminar_seat(seminar.id):
            return promoted
        promoted.append(waiting.user_id)
        waiting.status = RegistrationStatus.CONFIRMED.value
        db.session.flush()
        for choice in waiting.choices:
            if choice.status == RegistrationStatus.WAITING:
                _promote_workshop(choice.session_id)


def _promote_workshop(session_id: int) -> None:
    """Give a workshop's free seats to confirmed registrants waiting for it."""
    while True:
        choice = db.session.execute(
            select(WorkshopChoice)
            .join(WorkshopChoice.registration)
            .where(
                WorkshopChoice.session_id == session_id,
                WorkshopChoice.status == RegistrationStatus.WAITING,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(WorkshopChoice.queued_at, WorkshopChoice.id)
            .limit(1)
        ).scalar()
        if choice is None or not _take_workshop_seat(session_id):
            return
        choice.status = RegistrationStatus.CONFIRMED.value
        db.session.flush()


def mark_attendance(actor: User, registration: Registration, attended: bool | None) -> None:
    """Record whether a registrant came (None: unknown).

    :raise 403: ``actor`` is not an organiser.
    """
    ensure(actor, Action.SEMINAR_MANAGE, registration.seminar)
    registration.attended = attended
    db.session.commit()


def registrations(seminar: Seminar) -> list[Registration]:
    """Every registration of ``seminar`` with its member and choices, in queue order."""
    return list(
        db.session.execute(
            select(Registration)
            .options(
                joinedload(Registration.user),
                joinedload(Registration.choices).joinedload(WorkshopChoice.session),
            )
            .where(Registration.seminar_id == seminar.id)
            .order_by(Registration.status, Registration.queued_at, Registration.id)
        )
        .unique()
        .scalars()
    )


# -- threads linked to sessions --------------------------------------------------------------


def link_thread(
    actor: User, session: Session, thread: Thread, kind: str, *, commit: bool = True
) -> SessionThread:
    """Link ``thread`` to ``session`` as préparation or suite (idempotent).

    :raise 403: a member linking a follow-up, or a préparation to a past session.
    """
    kind = LinkKind(kind)
    ensure(
        actor,
        Action.SESSION_FOLLOW_UP if kind == LinkKind.FOLLOW_UP else Action.SESSION_PREPARE,
        session,
    )
    link = db.session.execute(
        select(SessionThread).where(
            SessionThread.session_id == session.id, SessionThread.thread_id == thread.id
        )
    ).scalar()
    if link is None:
        link = SessionThread(session_id=session.id, thread_id=thread.id)
        db.session.add(link)
    link.kind = kind.value
    touch(thread=thread)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return link


def _session_theme(session: Session) -> Theme:
    if session.theme is None:
        raise Refused(
            _("Cette séance n'a pas de thème : un·e organisateur·rice doit d'abord en choisir un.")
        )
    return session.theme


def open_follow_up(actor: User, session: Session, title: str, body: str) -> Thread:
    """Open a follow-up thread in the session's theme, linked as suite, in one transaction.

    :raise Refused: no theme, bad title or body.
    :raise 403: ``actor`` is not an organiser.
    """
    ensure(actor, Action.SESSION_FOLLOW_UP, session)
    thread = discussions.create_thread(actor, _session_theme(session), title, body, commit=False)
    link_thread(actor, session, thread, LinkKind.FOLLOW_UP, commit=False)
    invite_to_continue(session, thread)
    db.session.commit()  # the notifications' jobs commit with the thread, run right after
    return thread


def open_preparation(author: User, session: Session, title: str, body: str) -> Thread:
    """A member opens a préparation thread for a session still to come.

    :raise Refused: no theme, bad title or body.
    :raise 403: the session has ended, or ``author`` is not logged in.
    """
    ensure(author, Action.SESSION_PREPARE, session)
    thread = discussions.create_thread(author, _session_theme(session), title, body, commit=False)
    link_thread(author, session, thread, LinkKind.PREPARATION, commit=False)
    db.session.commit()  # the thread's notifications run after this commit
    return thread


def invite_to_continue(
    session: Session, thread: Thread | None = None, *, minutes: bool = False
) -> list[int]:
    """Invite ``session``'s seminar registrants to continue: the follow-up ``thread`` is
    open, or (``minutes``) the minutes are published. In the caller's transaction (the
    job that tells them commits with it); returns their user ids.
    """
    user_ids = _active_registrants(session.seminar_id)
    fanout.notify_seminar(
        user_ids,
        SeminarEvent.MINUTES if minutes else SeminarEvent.FOLLOW_UP,
        seminar=session.seminar,
        session=session,
        thread=thread,
    )
    return user_ids


def _active_registrants(seminar_id: int) -> list[int]:
    return list(
        db.session.execute(
            select(Registration.user_id).where(
                Registration.seminar_id == seminar_id,
                Registration.status.in_(ACTIVE),
            )
        ).scalars()
    )


def next_seminar() -> Seminar | None:
    """The next published seminar still to end (the home page shows it)."""
    return db.session.execute(
        select(Seminar)
        .where(Seminar.status == SeminarStatus.PUBLISHED, Seminar.ends_at > utcnow())
        .order_by(Seminar.starts_at)
        .limit(1)
    ).scalar()


def links_for_thread(thread_id: int) -> list[SessionThread]:
    """The sessions a thread is linked to, with their seminars: one query."""
    return list(
        db.session.execute(
            select(SessionThread)
            .join(SessionThread.session)
            .join(Session.seminar)
            .options(contains_eager(SessionThread.session).contains_eager(Session.seminar))
            .where(SessionThread.thread_id == thread_id)
            .order_by(Session.starts_at)
        ).scalars()
    )


def follow_ups_for(user, limit: int = 10) -> list[SessionThread]:
    """Follow-up threads of the sessions of seminars ``user`` registered to: one query."""
    if not user.is_authenticated:
        return []
    return list(
        db.session.execute(
            select(SessionThread)
            .join(SessionThread.session)
            .join(Session.seminar)
            .join(SessionThread.thread)
            .join(
                Registration,
                (Registration.seminar_id == Session.seminar_id) & (Registration.user_id == user.id),
            )
            .options(
                contains_eager(SessionThread.session).contains_eager(Session.seminar),
                contains_eager(SessionThread.thread),
            )
            .where(
                SessionThread.kind == LinkKind.FOLLOW_UP,
                Registration.status.in_(ACTIVE),
            )
            .order_by(Thread.last_post_at.desc())
            .limit(limit)
        ).scalars()
    )
