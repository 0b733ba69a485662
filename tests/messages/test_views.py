"""Private conversations through their pages: start, list, read, reply, the header count,
invite, leave, mute, edit, delete, blocks; 404 for everyone but participants; CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.extensions import db
from forum.messages.models import Conversation, Message
from tests.factories import make_user

PASSWORD = "un mot de passe solide"


def login(client, name):
    client.post_form("/auth/logout")
    response = client.post_form("/auth/login", {"login": name, "password": PASSWORD})
    assert response.status_code == 302
    return client


def start(client, to, subject="Une rencontre CSE et coopérative", body="Bonjour, parlons-en."):
    return client.post_form("/messages/new", {"to": to, "subject": subject, "body": body})


def conversation_id(response) -> int:
    return int(re.search(r"/messages/(\d+)", response.headers["Location"]).group(1))


@pytest.fixture
def people(app):
    return {name: make_user(app, name) for name in ("alice", "bob", "carol", "dave", "eve")}


def test_start_list_read_reply_and_the_header_count(app, client, people):
    login(client, "alice")
    response = start(client, "bob, carol", body="Bonjour **à vous** <script>x()</script>")
    assert response.status_code == 302
    cid = conversation_id(response)
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "<strong>à vous</strong>" in page and "<script>" not in page
    assert re.search(r'id="message-\d+"', page)

    login(client, "bob")
    home = client.get("/").get_data(as_text=True)
    assert "1 conversation non lue" in home
    listing = client.get("/messages/").get_data(as_text=True)
    assert "Une rencontre CSE et coopérative" in listing and "non lu" in listing
    client.get(f"/messages/{cid}")
    assert "conversation non lue" not in client.get("/").get_data(as_text=True)
    response = client.post_form(f"/messages/{cid}/reply", {"body": "Avec plaisir !"})
    assert response.status_code == 302

    login(client, "alice")
    assert "1 conversation non lue" in client.get("/").get_data(as_text=True)
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Avec plaisir !" in page
    with app.app_context():
        assert db.session.get(Conversation, cid).message_count == 2
        assert db.session.get(User, people["alice"].id).unread_conversations == 0


def test_others_get_404_and_anonymous_the_login_page(app, client, people):
    login(client, "alice")
    cid = conversation_id(start(client, "bob"))
    with app.app_context():
        mid = db.session.execute(select(Message.id)).scalar()
    login(client, "eve")
    for url in (f"/messages/{cid}", f"/messages/m/{mid}/edit", f"/messages/{mid}/report"):
        assert client.get(url).status_code == 404
    for url in (f"/messages/{cid}/reply", f"/messages/{cid}/invite", f"/messages/{cid}/leave",
                f"/messages/{cid}/mute", f"/messages/m/{mid}/delete"):  # fmt: skip
        assert client.post_form(url, {"body": "x", "username": "eve"}).status_code == 404
    assert client.get("/messages/999999").status_code == 404
    client.post_form("/auth/logout")
    response = client.get(f"/messages/{cid}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_every_change_refuses_a_missing_csrf_token(app, client, people):
    login(client, "alice")
    cid = conversation_id(start(client, "bob"))
    with app.app_context():
        mid = db.session.execute(select(Message.id)).scalar()
    for url in ("/messages/new", f"/messages/{cid}/reply", f"/messages/{cid}/invite",
                f"/messages/{cid}/leave", f"/messages/{cid}/mute", f"/messages/{cid}/unmute",
                f"/messages/m/{mid}/edit", f"/messages/m/{mid}/delete", f"/messages/{mid}/report",
                "/users/bob/block", "/users/bob/unblock"):  # fmt: skip
        response = client.post(url, data={"body": "x", "username": "carol", "to": "bob"})
        assert response.status_code == 400, url
    with app.app_context():
        assert db.session.execute(select(Message)).scalars().all()[0].body_source


def test_new_from_a_profile_prefills_the_recipient(client, people):
    login(client, "alice")
    profile = client.get("/users/bob").get_data(as_text=True)
    assert "/messages/new?to=bob" in profile and "Écrire un message" in profile
    page = client.get("/messages/new?to=bob").get_data(as_text=True)
    assert 'value="bob"' in page


def test_bad_input_gets_a_french_message(client, people):
    login(client, "alice")
    response = start(client, "personne")
    assert response.status_code == 400
    assert "Aucun·e membre ne porte ce pseudo" in response.get_data(as_text=True)
    response = start(client, "alice")
    assert response.status_code == 400
    response = start(client, "bob", subject="x")
    assert response.status_code == 400 and "Le sujet doit faire" in response.get_data(as_text=True)


def test_invite_leave_mute(app, client, people):
    login(client, "alice")
    cid = conversation_id(start(client, "bob"))
    assert client.post_form(f"/messages/{cid}/invite", {"username": "dave"}).status_code == 302
    login(client, "bob")
    # Only the starter invites.
    assert client.post_form(f"/messages/{cid}/invite", {"username": "eve"}).status_code == 403
    assert client.post_form(f"/messages/{cid}/mute").status_code == 302
    assert client.post_form(f"/messages/{cid}/leave").status_code == 302
    assert "Une rencontre" not in client.get("/messages/").get_data(as_text=True)
    login(client, "alice")
    client.post_form(f"/messages/{cid}/reply", {"body": "Après le départ de bob."})
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "dave a rejoint la conversation" in page and "bob a quitté la conversation" in page
    login(client, "bob")
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Après le départ de bob." not in page
    assert client.post_form(f"/messages/{cid}/reply", {"body": "Je reviens"}).status_code == 403


def test_edit_within_15_minutes_keeps_a_revision_and_delete_leaves_a_placeholder(
    app, client, people
):
    login(client, "alice")
    cid = conversation_id(start(client, "bob", body="Première version"))
    with app.app_context():
        mid = db.session.execute(select(Message.id)).scalar()
    response = client.post_form(f"/messages/m/{mid}/edit", {"body": "Seconde version"})
    assert response.status_code == 302
    history = client.get(f"/messages/m/{mid}/history").get_data(as_text=True)
    assert "Première version" in history and "Seconde version" in history
    login(client, "bob")
    assert client.get(f"/messages/m/{mid}/edit").status_code == 403
    login(client, "alice")
    assert client.post_form(f"/messages/m/{mid}/delete").status_code == 302
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Ce message a été supprimé." in page and "Seconde version" not in page


def test_block_hides_later_messages_and_refuses_new_conversations(app, client, people):
    login(client, "alice")
    cid = conversation_id(start(client, "carol"))
    login(client, "carol")
    client.get(f"/messages/{cid}")
    assert client.post_form("/users/alice/block").status_code == 302
    settings = client.get("/settings").get_data(as_text=True)
    assert "Comptes bloqués" in settings and "alice" in settings
    login(client, "alice")
    response = start(client, "carol", subject="Encore moi")
    assert response.status_code == 400
    assert "ne souhaite pas recevoir vos messages" in response.get_data(as_text=True)
    other = conversation_id(start(client, "bob", subject="Avec bob seulement"))
    response = client.post_form(f"/messages/{other}/invite", {"username": "carol"})
    assert response.status_code == 400
    client.post_form(f"/messages/{cid}/reply", {"body": "Message après le blocage"})
    login(client, "carol")
    assert "conversation non lue" not in client.get("/").get_data(as_text=True)
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Message après le blocage" not in page
    assert "vous avez bloqué cette personne" in page
    with app.app_context():
        mid = db.session.execute(select(Message.id).order_by(Message.id.desc())).scalar()
    shown = client.get(f"/messages/{cid}?show={mid}").get_data(as_text=True)
    assert "Message après le blocage" in shown
    assert client.post_form("/users/alice/unblock").status_code == 302
    assert "Vous n'avez bloqué personne." in client.get("/settings").get_data(as_text=True)


def test_content_stays_out_of_search_feeds_profiles_and_shows_gone_accounts(app, client, people):
    login(client, "alice")
    cid = conversation_id(start(client, "bob", body="Le mot secret est tournesolaire."))
    for url in ("/search?q=tournesolaire", "/feeds/latest.atom", "/users/alice", "/"):
        assert "Le mot secret" not in client.get(url).get_data(as_text=True), url
    with app.app_context():
        message = db.session.execute(select(Message)).scalar_one()
        message.author_id = None  # as an erased account leaves it
        db.session.commit()
    login(client, "bob")
    assert "participant·e supprimé·e" in client.get(f"/messages/{cid}").get_data(as_text=True)


def test_banned_members_conversations_stay_readable(app, client, people):
    from forum.moderation.models import FOREVER

    login(client, "alice")
    cid = conversation_id(start(client, "bob", body="Avant le bannissement"))
    with app.app_context():
        bob = db.session.execute(select(User).where(User.username == "bob")).scalar_one()
        bob.suspended_until = FOREVER
        db.session.commit()
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Avant le bannissement" in page
    response = client.post_form(f"/messages/{cid}/reply", {"body": "Toujours là ?"})
    assert response.status_code == 302
    response = start(client, "bob", subject="Un autre sujet")
    assert response.status_code == 400 and "suspendu" in response.get_data(as_text=True)


def test_mail_preference_is_offered_and_notifications_link_to_the_conversation(client, people):
    login(client, "bob")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Messages privés" in page and 'name="message"' in page
    login(client, "alice")
    cid = conversation_id(start(client, "bob"))
    login(client, "bob")
    bell = client.get("/notifications").get_data(as_text=True)
    assert "alice vous a écrit" in bell
    notification = re.search(r"/notifications/(\d+)/read", bell).group(1)
    response = client.post_form(f"/notifications/{notification}/read")
    assert response.headers["Location"].endswith(f"/messages/{cid}")
