"""Seminar invitations: follow-up thread, minutes, promotion from the waiting list, cancellation."""

from __future__ import annotations

from sqlalchemy import select

from forum.accounts.models import User
from forum.discussions import services as discussions
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.notifications import watching
from forum.notifications.models import Notification
from forum.seminars import services as seminars
from forum.seminars.models import Registration, Session
from tests.factories import login, make_user
from tests.notifications.conftest import local_path, text_part
from tests.seminars.test_seminars import make_seminar, make_session


def _login(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def seminar_events(app, user) -> list[str]:
    with app.app_context():
        return list(
            db.session.execute(
                select(Notification.event)
                .where(Notification.user_id == user.id, Notification.kind == "seminar")
                .order_by(Notification.id)
            ).scalars()
        )


def test_participant_is_invited_to_the_follow_up_and_the_minutes(mail_app, smtp_server):
    organiser = make_user(mail_app, "orga", role="admin")
    alice, outsider = make_user(mail_app, "alice"), make_user(mail_app, "passant")
    seminar_id = make_seminar(mail_app, organiser, days=-1)
    session_id = make_session(mail_app, organiser, seminar_id, title="Plénière d'ouverture")
    with mail_app.app_context():
        db.session.add(Registration(seminar_id=seminar_id, user_id=alice.id, status="confirmed"))
        db.session.commit()

    orga = _login(mail_app, "orga")
    response = orga.post_form(
        f"/sessions/{session_id}/follow-up",
        {"title": "Après la plénière : on continue", "body": "Vos impressions ?"},
    )
    assert response.status_code == 302
    assert seminar_events(mail_app, alice) == ["follow_up"]
    assert seminar_events(mail_app, outsider) == []

    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert message["Subject"] == "La discussion continue : « Après la plénière : on continue »"
    link = next(w for w in text_part(message).split() if "/threads/" in w)
    client = _login(mail_app, "alice")
    page = client.get(local_path(link))
    assert page.status_code == 200
    assert "Après la plénière" in page.get_data(as_text=True)
    assert "continue" in client.get("/notifications").get_data(as_text=True)

    orga.post_form(f"/sessions/{session_id}/minutes", {"minutes": "Ce qui s'est dit."})
    assert seminar_events(mail_app, alice) == ["follow_up", "minutes"]
    assert smtp_server.inbox.to("alice@exemple.org")[-1]["Subject"] == (
        "Compte rendu publié : « Plénière d'ouverture »"
    )


def test_promotion_from_the_waiting_list_is_notified(app):
    organiser = make_user(app, "orga", role="admin")
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    seminar_id = make_seminar(app, organiser, capacity=1)
    _login(app, "alice").post_form(f"/seminars/{seminar_id}/register")
    _login(app, "bob").post_form(f"/seminars/{seminar_id}/register")
    assert seminar_events(app, bob) == []
    _login(app, "alice").post_form(f"/seminars/{seminar_id}/unregister")
    assert seminar_events(app, bob) == ["promoted"]
    assert seminar_events(app, alice) == []


def test_cancelling_a_seminar_tells_its_registrants(mail_app, smtp_server):
    from forum.accounts.models import User
    from forum.seminars import services
    from forum.seminars.models import Seminar

    organiser = make_user(mail_app, "orga", role="admin")
    alice = make_user(mail_app, "alice")
    seminar_id = make_seminar(mail_app, organiser, title="Rencontres d'automne")
    _login(mail_app, "alice").post_form(f"/seminars/{seminar_id}/register")
    with mail_app.app_context():
        seminar = db.session.get(Seminar, seminar_id)
        fields = {
            name: getattr(seminar, name)
            for name in ("title", "venue", "address", "starts_at", "ends_at", "capacity")
        }
        services.save_seminar(
            db.session.get(User, organiser.id),
            seminar,
            description=seminar.description_source,
            registration_closes_at=None,
            status="cancelled",
            **fields,
        )
    assert seminar_events(mail_app, alice) == ["cancelled"]
    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert message["Subject"] == "Séminaire annulé : « Rencontres d'automne »"
    assert f"/seminars/{seminar_id}" in text_part(message)


def test_preparation_thread_notifies_theme_watchers_after_its_commit_only(app):
    """The seminars service links the thread in the same transaction as create_thread: the
    watchers hear of it once that transaction commits, and not at all if it rolls back."""
    organiser = make_user(app, "orga", role="admin")
    author, watcher = make_user(app, "alice"), make_user(app, "guetteur")
    session_id = make_session(app, organiser, make_seminar(app, organiser, days=10))
    with app.app_context():
        urbain = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        watching.watch_theme(db.session.get(User, watcher.id), urbain, "watching")

        discussions.create_thread(
            db.session.get(User, author.id), urbain, "Un fil qui n'aura pas lieu", "Brouillon.",
            commit=False,
        )  # fmt: skip
        db.session.rollback()
        assert db.session.execute(select(Thread.id)).first() is None

        thread = seminars.open_preparation(
            db.session.get(User, author.id),
            db.session.get(Session, session_id),
            "Préparer la plénière ensemble",
            "Vos questions pour la plénière ?",
        )
        kinds = db.session.execute(
            select(Notification.kind, Notification.thread_id).where(
                Notification.user_id == watcher.id
            )
        ).all()
        assert kinds == [("new_thread", thread.id)]
