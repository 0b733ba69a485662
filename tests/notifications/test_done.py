"""The issue's "done when", tried as a new user would, over HTTP and a real SMTP server."""

from __future__ import annotations

import re

from forum.extensions import db
from forum.seminars.models import Registration
from tests.factories import login, make_user
from tests.notifications.conftest import local_path, text_part
from tests.seminars.test_seminars import make_seminar, make_session


def _client(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def test_done_when(mail_app, smtp_server):
    """Alice follows a theme, Bob opens a thread there and mentions her: bell, badge, e-mail.
    A seminar participant is invited to the follow-up thread. A forgotten password is reset.
    """
    alice_user = make_user(mail_app, "alice")
    make_user(mail_app, "bob")
    alice, bob = _client(mail_app, "alice"), _client(mail_app, "bob")

    assert (
        alice.post_form("/themes/developpement-local/watch", {"level": "watching"}).status_code
        == 302
    )
    response = bob.post_form(
        "/themes/developpement-local/new",
        {"title": "Une coopérative d'habitants à Montreuil", "body": "Qu'en dis-tu, @alice ?"},
    )
    assert response.status_code == 302
    thread_id = int(re.search(r"/threads/(\d+)", response.headers["Location"]).group(1))

    home = alice.get("/").get_data(as_text=True)
    assert re.search(r'class="bell-count"[^>]*>1<', home)
    theme = alice.get("/themes/developpement-local").get_data(as_text=True)
    assert "never-opened" in theme  # the unread badge on a thread never opened
    notifications = alice.get("/notifications").get_data(as_text=True)
    assert "bob vous a mentionné·e dans « Une coopérative d&#39;habitants à Montreuil »" in (
        notifications
    )

    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert "bob vous a mentionné·e" in message["Subject"]
    url = next(w for w in text_part(message).split() if "/posts/" in w)
    page = alice.get(local_path(url), follow_redirects=True)
    assert page.status_code == 200
    assert 'href="/users/alice"' in page.get_data(as_text=True)
    assert "never-opened" not in alice.get("/themes/developpement-local").get_data(as_text=True)
    assert f"/threads/{thread_id}" in page.request.path

    # Alice took part in a seminar: she is invited to its follow-up thread.
    organiser = make_user(mail_app, "orga", role="admin")
    seminar_id = make_seminar(mail_app, organiser, days=-1)
    session_id = make_session(mail_app, organiser, seminar_id)
    with mail_app.app_context():
        db.session.add(
            Registration(seminar_id=seminar_id, user_id=alice_user.id, status="confirmed")
        )
        db.session.commit()
    _client(mail_app, "orga").post_form(
        f"/sessions/{session_id}/follow-up",
        {"title": "La suite de notre séance", "body": "On continue ici."},
    )
    invitation = smtp_server.inbox.to("alice@exemple.org")[-1]
    assert invitation["Subject"] == "La discussion continue : « La suite de notre séance »"
    assert "La suite de notre séance" in alice.get("/notifications").get_data(as_text=True)

    # Bob forgot his password.
    anonymous = mail_app.test_client()
    anonymous.post_form("/auth/reset", {"email": "bob@exemple.org"})
    reset = smtp_server.inbox.to("bob@exemple.org")[-1]
    url = local_path(next(w for w in text_part(reset).split() if "/auth/reset/" in w))
    new = "mon nouveau mot de passe"
    assert anonymous.post_form(url, {"password": new, "password_confirm": new}).status_code == 302
    again = mail_app.test_client()
    assert again.post_form("/auth/login", {"login": "bob", "password": new}).status_code == 302
