"""Seminars: registration under concurrency, waiting list, permissions, forms, calendars, pages."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.seminars import services
from forum.seminars.models import Registration, Seminar, Session, SessionThread, WorkshopChoice
from tests.factories import login, make_thread, make_user

PARIS = ZoneInfo("Europe/Paris")


def make_seminar(app, organiser, *, capacity=None, days=30, status="published", **fields):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=days)
    values = {
        "title": "Rencontres sociales de printemps",
        "description": "Une journée pour **débattre**.",
        "venue": "Amphithéâtre Le d'Artagnan",
        "address": "80 rue de Vitruve, 75020 Paris",
        "starts_at": start,
        "ends_at": start + timedelta(hours=8),
        "capacity": capacity,
        "registration_closes_at": None,
        "status": status,
    }
    values.update(fields)
    with app.app_context():
        seminar = services.save_seminar(db.session.get(User, organiser.id), None, **values)
        return seminar.id


def make_session(app, organiser, seminar_id, *, kind="plenary", capacity=None, **fields):
    with app.app_context():
        seminar = db.session.get(Seminar, seminar_id)
        theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        values = {
            "title": "Plénière d'ouverture",
            "kind": kind,
            "starts_at": seminar.starts_at,
            "ends_at": seminar.starts_at + timedelta(hours=1),
            "room": "Grand amphi",
            "theme": theme,
            "speakers": "Claire Dumas, Rencontres sociales\nKarim Haddad, CSE TransAgglo",
            "description": "On ouvre.",
            "capacity": capacity,
        }
        values.update(fields)
        session = services.save_session(db.session.get(User, organiser.id), seminar, None, **values)
        return session.id


@pytest.fixture
def organiser(app):
    return make_user(app, "orga", role="admin")


def _login(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _statuses(app, seminar_id):
    with app.app_context():
        rows = db.session.execute(
            select(User.username, Registration.status)
            .join(Registration.user)
            .where(Registration.seminar_id == seminar_id)
        ).all()
        return dict(rows)


# -- registration ----------------------------------------------------------------------------


def test_concurrent_registrations_never_overbook(app, organiser):
    capacity, people = 3, 8
    seminar_id = make_seminar(app, organiser, capacity=capacity)
    workshop = make_session(app, organiser, seminar_id, kind="workshop", capacity=2)
    users = [make_user(app, f"participant{i}") for i in range(people)]
    barrier = threading.Barrier(people, timeout=30)
    errors: list[str] = []

    def register(username):
        client = _login(app, username)
        token = client.csrf_token()
        barrier.wait()
        response = client.post(
            f"/seminars/{seminar_id}/register",
            data={"csrf_token": token, "workshops": str(workshop)},
        )
        if response.status_code != 302:
            errors.append(f"{username}: {response.status_code}")

    workers = [threading.Thread(target=register, args=(u.username,)) for u in users]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    statuses = _statuses(app, seminar_id)
    assert len(statuses) == people
    assert sorted(statuses.values()).count("confirmed") == capacity
    with app.app_context():
        assert db.session.get(Seminar, seminar_id).seats_taken == capacity
        assert db.session.get(Session, workshop).seats_taken == 2
        confirmed_choices = db.session.execute(
            select(WorkshopChoice).where(WorkshopChoice.status == "confirmed")
        ).all()
        assert len(confirmed_choices) == 2


def test_full_seminar_puts_on_waiting_list_and_cancellation_promotes_first(
    app, organiser, client, auth
):
    seminar_id = make_seminar(app, organiser, capacity=1)
    for name in ("alice", "bob", "carol"):
        make_user(app, name)
    _login(app, "alice").post_form(f"/seminars/{seminar_id}/register")
    _login(app, "bob").post_form(f"/seminars/{seminar_id}/register")
    auth.login("carol")
    response = client.post_form(f"/seminars/{seminar_id}/register", follow_redirects=True)
    assert "liste d&#39;attente" in response.get_data(as_text=True)
    assert _statuses(app, seminar_id) == {
        "alice": "confirmed",
        "bob": "waiting",
        "carol": "waiting",
    }

    _login(app, "alice").post_form(f"/seminars/{seminar_id}/unregister")
    assert _statuses(app, seminar_id) == {
        "alice": "cancelled",
        "bob": "confirmed",
        "carol": "waiting",
    }
    with app.app_context():
        assert db.session.get(Seminar, seminar_id).seats_taken == 1

    # Registering again puts alice at the end of the queue.
    _login(app, "alice").post_form(f"/seminars/{seminar_id}/register")
    _login(app, "bob").post_form(f"/seminars/{seminar_id}/unregister")
    assert _statuses(app, seminar_id)["carol"] == "confirmed"
    assert _statuses(app, seminar_id)["alice"] == "waiting"


def test_workshop_waiting_list_promotes_on_cancellation(app, organiser):
    seminar_id = make_seminar(app, organiser)
    workshop = make_session(app, organiser, seminar_id, kind="workshop", capacity=1)
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    with app.app_context():
        seminar = db.session.get(Seminar, seminar_id)
        services.register(db.session.get(User, alice.id), seminar, [workshop])
        reg = services.register(db.session.get(User, bob.id), seminar, [workshop])
        assert reg.status == "confirmed"
        assert reg.choices[0].status == "waiting"
        services.unregister(db.session.get(User, alice.id), seminar)
        db.session.expire_all()
        assert db.session.get(Registration, reg.id).choices[0].status == "confirmed"
        assert db.session.get(Session, workshop).seats_taken == 1


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"status": "cancelled"}, "annulé"),
        ({"days": -3}, "déjà eu lieu"),
        ({"registration_closes_at": utcnow() - timedelta(hours=1)}, "closes"),
    ],
)
def test_registration_refused_with_a_clear_message(app, organiser, client, auth, fields, words):
    seminar_id = make_seminar(app, organiser, **fields)
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form(f"/seminars/{seminar_id}/register")
    assert response.status_code == 403
    assert words in response.get_data(as_text=True)
    assert _statuses(app, seminar_id) == {}


def test_double_registration_refused(app, organiser, client, auth):
    seminar_id = make_seminar(app, organiser)
    make_user(app, "alice")
    auth.login("alice")
    client.post_form(f"/seminars/{seminar_id}/register")
    page = client.post_form(f"/seminars/{seminar_id}/register", follow_redirects=True)
    assert "déjà inscrit·e" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Seminar, seminar_id).seats_taken == 1


# -- permissions and forms -------------------------------------------------------------------


def test_only_organisers_manage(app, organiser, client, auth):
    seminar_id = make_seminar(app, organiser)
    session_id = make_session(app, organiser, seminar_id)
    make_user(app, "alice")
    auth.login("alice")
    for url in (
        "/seminars/new",
        f"/seminars/{seminar_id}/edit",
        f"/seminars/{seminar_id}/sessions/new",
        f"/sessions/{session_id}/edit",
        f"/seminars/{seminar_id}/registrations",
        f"/seminars/{seminar_id}/registrations.csv",
        f"/sessions/{session_id}/minutes",
        f"/sessions/{session_id}/follow-up",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post_form("/seminars/new", {"title": "Pirate"})
    assert response.status_code == 403
    page = client.get(f"/seminars/{seminar_id}").get_data(as_text=True)
    assert "/registrations" not in page

    organiser_member = make_user(app, "organisatrice")
    with app.app_context():
        db.session.get(User, organiser_member.id).is_organiser = True
        db.session.commit()
    auth.logout()
    auth.login("organisatrice")
    assert client.get(f"/seminars/{seminar_id}/registrations").status_code == 200
    csv_page = client.get(f"/seminars/{seminar_id}/registrations.csv")
    assert csv_page.status_code == 200
    assert csv_page.get_data(as_text=True).startswith(
        "name,email,organisation,family,status,attendance"
    )


def test_anonymous_cannot_see_registrants_or_drafts(app, organiser, client):
    seminar_id = make_seminar(app, organiser)
    draft_id = make_seminar(app, organiser, status="draft", title="Brouillon secret")
    assert client.get(f"/seminars/{seminar_id}/registrations").status_code == 302
    assert client.get(f"/seminars/{draft_id}").status_code == 404
    assert "Brouillon secret" not in client.get("/seminars/").get_data(as_text=True)


def test_seminar_form_reads_paris_time_and_rejects_bad_dates(app, organiser, client, auth):
    auth.login("orga")
    data = {
        "title": "Séminaire d'été",
        "description": "Au *soleil*.",
        "venue": "Bourse du travail",
        "address": "3 rue du Château-d'Eau, Paris",
        "starts_at": "2027-03-31T09:00",
        "ends_at": "2027-03-31T18:00",
        "capacity": "",
        "registration_closes_at": "",
        "status": "published",
    }
    bad_order = client.post_form("/seminars/new", {**data, "ends_at": "2027-03-31T08:00"})
    assert bad_order.status_code == 400
    assert "après le début" in bad_order.get_data(as_text=True)
    unparsable = client.post_form("/seminars/new", {**data, "starts_at": "31 mars"})
    assert unparsable.status_code == 400
    assert "Date et heure attendues" in unparsable.get_data(as_text=True)

    response = client.post_form("/seminars/new", data)
    assert response.status_code == 302
    with app.app_context():
        seminar = db.session.execute(select(Seminar)).scalar_one()
        # Summer time from 28 March 2027: Paris is UTC+2.
        assert seminar.starts_at == datetime(2027, 3, 31, 7, 0)
        assert seminar.capacity is None
        assert "<em>soleil</em>" in seminar.description_html
        seminar_id = seminar.id

    session = {
        "title": "Atelier habitat",
        "kind": "workshop",
        "starts_at": "2027-03-31T14:00",
        "ends_at": "2027-03-31T13:00",
        "room": "Salle 2",
        "theme": "urbain",
        "speakers": "Fatou Diallo, Régie de quartier",
        "description": "",
        "capacity": "20",
    }
    url = f"/seminars/{seminar_id}/sessions/new"
    assert client.post_form(url, session).status_code == 400
    assert client.post_form(url, {**session, "ends_at": "2027-03-31T16:00"}).status_code == 302


# -- follow-up threads -----------------------------------------------------------------------


def test_follow_up_thread_is_linked_and_shown_to_registrants(app, organiser, client, auth):
    seminar_id = make_seminar(app, organiser, days=-1)
    session_id = make_session(app, organiser, seminar_id)
    alice = make_user(app, "alice")
    with app.app_context():
        db.session.add(Registration(seminar_id=seminar_id, user_id=alice.id, status="confirmed"))
        db.session.commit()

    auth.login("orga")
    response = client.post_form(
        f"/sessions/{session_id}/follow-up",
        {"title": "Après la plénière : on continue", "body": "Vos impressions ?"},
    )
    assert response.status_code == 302
    with app.app_context():
        link = db.session.execute(select(SessionThread)).scalar_one()
        assert link.kind == "follow_up"
        thread = db.session.get(Thread, link.thread_id)
        assert thread.theme.slug == "urbain"
        thread_id = link.thread_id
        # (Inviting commits the notifications: read the link's ids before.)
        assert services.invite_to_continue(link.session) == [alice.id]
    thread_page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Suite de la séance" in thread_page
    assert f"/sessions/{session_id}" in thread_page
    session_page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Continuer la discussion" in session_page
    assert "Après la plénière" in session_page

    auth.logout()
    auth.login("alice")
    home = client.get("/").get_data(as_text=True)
    assert "Vos séances : continuez la discussion" in home
    assert "Après la plénière" in home
    # Members may not open follow-ups; a préparation needs a session to come.
    assert client.post_form(f"/sessions/{session_id}/follow-up", {"title": "x"}).status_code == 403
    assert client.get(f"/sessions/{session_id}/prepare").status_code == 403


def test_member_opens_preparation_thread_and_minutes_publish(app, organiser, client, auth):
    seminar_id = make_seminar(app, organiser)
    session_id = make_session(app, organiser, seminar_id)
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form(
        f"/sessions/{session_id}/prepare",
        {"title": "Nos questions pour la plénière", "body": "Je commence."},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(SessionThread.kind)).scalar_one() == "preparation"
    auth.logout()
    auth.login("orga")
    response = client.post_form(
        f"/sessions/{session_id}/minutes", {"minutes": "## Retenu\n\n- tout"}
    )
    assert response.status_code == 302
    assert "Retenu" in client.get(f"/sessions/{session_id}").get_data(as_text=True)


def test_linking_an_existing_thread(app, organiser, client, auth):
    seminar_id = make_seminar(app, organiser)
    session_id = make_session(app, organiser, seminar_id)
    thread = make_thread(app, organiser, "urbain")
    auth.login("orga")
    client.post_form(
        f"/sessions/{session_id}/link", {"thread_id": thread.id, "kind": "preparation"}
    )
    assert thread.title in client.get(f"/sessions/{session_id}").get_data(as_text=True)


# -- calendars -------------------------------------------------------------------------------


def test_ics_times_across_daylight_saving_and_stable_uids(app, organiser, client):
    seminar_id = make_seminar(
        app,
        organiser,
        starts_at=datetime(2027, 3, 27, 8, 0),
        ends_at=datetime(2027, 3, 29, 17, 0),
    )
    winter = make_session(
        app,
        organiser,
        seminar_id,
        title="Samedi, heure d'hiver",
        starts_at=services.from_paris(datetime(2027, 3, 27, 10, 0)),
        ends_at=services.from_paris(datetime(2027, 3, 27, 12, 0)),
    )
    summer = make_session(
        app,
        organiser,
        seminar_id,
        title="Lundi, heure d'été",
        starts_at=services.from_paris(datetime(2027, 3, 29, 10, 0)),
        ends_at=services.from_paris(datetime(2027, 3, 29, 12, 0)),
    )
    first = client.get(f"/seminars/{seminar_id}.ics")
    assert first.status_code == 200
    assert first.mimetype == "text/calendar"
    calendar = Calendar.from_ical(first.data)
    assert calendar.walk("VTIMEZONE")
    events = {
        e.decoded("url").decode() if isinstance(e.decoded("url"), bytes) else str(e["url"]): e
        for e in calendar.walk("VEVENT")
    }
    by_session = {int(url.rsplit("/", 1)[1]): event for url, event in events.items()}
    for session_id, offset in ((winter, 1), (summer, 2)):
        start = by_session[session_id].decoded("dtstart")
        assert (start.hour, start.minute) == (10, 0)
        assert start.utcoffset() == timedelta(hours=offset)
        assert str(by_session[session_id]["dtstart"].params["TZID"]) == "Europe/Paris"
        assert "Amphithéâtre Le d'Artagnan" in str(by_session[session_id]["location"])
    second = Calendar.from_ical(client.get(f"/seminars/{seminar_id}.ics").data)
    uids = sorted(str(e["uid"]) for e in calendar.walk("VEVENT"))
    assert uids == sorted(str(e["uid"]) for e in second.walk("VEVENT"))
    assert len(set(uids)) == 2


def test_all_sessions_calendar_marks_cancelled(app, organiser, client):
    live = make_seminar(app, organiser, title="Séminaire maintenu")
    cancelled = make_seminar(app, organiser, title="Séminaire annulé", status="cancelled")
    draft = make_seminar(app, organiser, title="Séminaire brouillon", status="draft")
    for seminar_id in (live, cancelled, draft):
        make_session(app, organiser, seminar_id)
    calendar = Calendar.from_ical(client.get("/seminars.ics").data)
    statuses = {
        str(e["summary"]).split(" — ")[1]: str(e["status"]) for e in calendar.walk("VEVENT")
    }
    assert statuses == {"Séminaire maintenu": "CONFIRMED", "Séminaire annulé": "CANCELLED"}


# -- pages and query counts ------------------------------------------------------------------


def _grow(app, organiser, seminar_id, n):
    for i in range(n):
        make_session(
            app, organiser, seminar_id, title=f"Atelier numéro {i}", kind="workshop", capacity=10
        )


@pytest.mark.parametrize(
    ("url", "pinned"),
    [
        ("/seminars/", 5),
        ("/seminars/{seminar}", 4),
        ("/sessions/{session}", 3),
    ],
)
def test_query_counts_are_constant(app, organiser, client, auth, query_counter, url, pinned):
    seminar_id = make_seminar(app, organiser)
    session_id = make_session(app, organiser, seminar_id)
    make_seminar(app, organiser, days=-10)
    make_user(app, "alice")
    auth.login("alice")
    client.post_form(f"/seminars/{seminar_id}/register")
    page = url.format(seminar=seminar_id, session=session_id)

    def count():
        with query_counter() as counter:
            assert client.get(page).status_code == 200
        return counter.count

    small = count()
    _grow(app, organiser, seminar_id, 5)
    for i in range(3):
        thread = make_thread(app, organiser, "urbain", title=f"Préparons la séance {i}")
        with app.app_context():
            services.link_thread(
                db.session.get(User, organiser.id),
                db.session.get(Session, session_id),
                db.session.get(Thread, thread.id),
                "preparation",
            )
    large = count()
    assert (small, large) == (pinned, pinned)
