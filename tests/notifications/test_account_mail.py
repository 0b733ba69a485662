"""Account e-mails: password reset, address verification, change of address."""

from __future__ import annotations

from sqlalchemy import select, update

from forum.accounts.models import User
from forum.extensions import db
from tests.factories import PASSWORD, make_thread, make_user
from tests.notifications.conftest import html_part, local_path, text_part

NEW_PASSWORD = "une autre phrase de passe"


def link(message, fragment: str) -> str:
    return local_path(next(w for w in text_part(message).split() if fragment in w))


def login(client, login_name: str, password: str = PASSWORD):
    return client.post_form("/auth/login", {"login": login_name, "password": password})


def test_password_reset_by_email(mail_app, smtp_server):
    make_user(mail_app, "alice")
    other_device = mail_app.test_client()
    login(other_device, "alice")
    assert other_device.get("/settings").status_code == 200

    client = mail_app.test_client()
    known = client.post_form("/auth/reset", {"email": "alice@exemple.org"}, follow_redirects=True)
    unknown = client.post_form(
        "/auth/reset", {"email": "nobody@exemple.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    answer = "Si un compte utilise cette adresse"
    assert answer in known.get_data(as_text=True) and answer in unknown.get_data(as_text=True)
    [message] = smtp_server.messages
    assert message["To"] == "alice@exemple.org"
    assert message["Subject"] == "Réinitialiser votre mot de passe"
    assert "/auth/reset/" in html_part(message)
    url = link(message, "/auth/reset/")

    assert client.get(url).status_code == 200
    response = client.post_form(url, {"password": NEW_PASSWORD, "password_confirm": "autre"})
    assert response.status_code == 400
    response = client.post_form(url, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302

    # The link was used: it no longer works. The other session ended. The new password works.
    assert client.get(url).status_code == 400
    assert other_device.get("/settings").status_code == 302
    fresh = mail_app.test_client()
    assert login(fresh, "alice", PASSWORD).status_code == 400  # refused: the form again
    assert login(fresh, "alice", NEW_PASSWORD).status_code == 302


def test_reset_link_expires(make_app, smtp_server):
    from tests.notifications.conftest import mail_config

    app = make_app(**mail_config(smtp_server.port), FORUM_TOKEN_MAX_AGE=-1)
    smtp_server.inbox.worker_app = app
    make_user(app, "alice")
    client = app.test_client()
    client.post_form("/auth/reset", {"email": "alice@exemple.org"})
    url = link(smtp_server.messages[0], "/auth/reset/")
    response = client.get(url)
    assert response.status_code == 400
    assert "plus valable" in response.get_data(as_text=True)
    assert client.get("/auth/reset/faux-jeton").status_code == 400


def test_registration_needs_verification_when_mail_is_configured(
    mail_app, mail_client, smtp_server
):
    response = mail_client.post_form(
        "/auth/register",
        {
            "username": "nouvelle",
            "email": "nouvelle@exemple.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 302
    [message] = smtp_server.inbox.to("nouvelle@exemple.org")
    assert message["Subject"] == "Confirmez votre adresse e-mail"
    # Reads, but may not write yet.
    assert mail_client.get("/themes/urbain").status_code == 200
    assert mail_client.get("/themes/urbain/new").status_code == 403
    # A new link can be asked for.
    assert mail_client.post_form("/auth/verify/resend").status_code == 302
    assert len(smtp_server.inbox.to("nouvelle@exemple.org")) == 2

    url = link(message, "/auth/verify/")
    assert "Confirmer mon adresse" in mail_client.get(url).get_data(as_text=True)
    assert mail_client.post_form(url).status_code == 302
    assert mail_client.get("/themes/urbain/new").status_code == 200


def test_without_mail_server_nothing_is_blocked(app, client):
    client.post_form(
        "/auth/register",
        {
            "username": "nouvelle",
            "email": "nouvelle@exemple.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert client.get("/themes/urbain/new").status_code == 200


def test_change_of_address_needs_password_and_confirmation(mail_app, mail_client, smtp_server):
    alice = make_user(mail_app, "alice")
    make_user(mail_app, "bob")
    login(mail_client, "alice")
    wrong = mail_client.post_form(
        "/settings/email", {"email": "alice@nouveau.org", "password": "pas le bon"}
    )
    assert wrong.status_code == 400
    taken = mail_client.post_form(
        "/settings/email", {"email": "bob@exemple.org", "password": PASSWORD}
    )
    assert taken.status_code == 400
    assert smtp_server.messages == []

    ok = mail_client.post_form(
        "/settings/email", {"email": "alice@nouveau.org", "password": PASSWORD}
    )
    assert ok.status_code == 302
    [message] = smtp_server.inbox.to("alice@nouveau.org")
    with mail_app.app_context():
        assert db.session.get(User, alice.id).email == "alice@exemple.org"  # not yet
    url = link(message, "/auth/confirm-email/")
    assert mail_client.post_form(url).status_code == 302
    with mail_app.app_context():
        assert db.session.get(User, alice.id).email == "alice@nouveau.org"
    assert mail_client.post_form(url).status_code == 400  # used


def test_unverified_member_cannot_reply(mail_app, mail_client):
    alice = make_user(mail_app, "alice")
    thread = make_thread(mail_app, alice)
    make_user(mail_app, "bob", verified=False)
    with mail_app.app_context():
        db.session.execute(
            update(User).where(User.username == "bob").values(email_verified_at=None)
        )
        db.session.commit()
        assert (
            db.session.execute(
                select(User.email_verified_at).where(User.username == "bob")
            ).scalar()
            is None
        )
    login(mail_client, "bob")
    response = mail_client.post_form(f"/threads/{thread.id}/reply", {"body": "Je peux ?"})
    assert response.status_code == 403
