"""The issue's "Done when", tried as new members would, through the pages and real SMTP."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from forum.extensions import db
from forum.messages.models import Message
from forum.moderation.models import LogEntry, Report
from tests.factories import make_user
from tests.messages.test_views import login
from tests.notifications.conftest import local_path, text_part


def _last_message_id(app, author: str) -> int:
    from forum.accounts.models import User

    with app.app_context():
        return db.session.execute(
            select(Message.id)
            .join(User, User.id == Message.author_id)
            .where(User.username == author, Message.kind == "message")
            .order_by(Message.id.desc())
        ).scalar()


def test_alice_bob_carol_dave_and_a_moderator(mail_app, mail_client, smtp_server):
    app, client = mail_app, mail_client
    for name in ("alice", "bob", "carol", "dave"):
        make_user(app, name)
    make_user(app, "modo", role="moderator")
    smtp_server.messages.clear()

    # alice writes to bob and carol from bob's profile.
    login(client, "alice")
    profile = client.get("/users/bob").get_data(as_text=True)
    new_url = re.search(r'href="(/messages/new\?to=bob)"', profile).group(1)
    form = client.get(new_url).get_data(as_text=True)
    assert 'value="bob"' in form
    response = client.post_form(
        "/messages/new",
        {"to": "bob, carol", "subject": "CSE et coopérative : se rencontrer",
         "body": "Bonjour à vous deux, @dave n'est pas encore là."},
    )  # fmt: skip
    assert response.status_code == 302
    cid = int(re.search(r"/messages/(\d+)", response.headers["Location"]).group(1))

    # bob sees the unread count, reads, answers.
    login(client, "bob")
    assert "1 conversation non lue" in client.get("/").get_data(as_text=True)
    assert "CSE et coopérative" in client.get(f"/messages/{cid}").get_data(as_text=True)
    client.post_form(f"/messages/{cid}/reply", {"body": "Bonjour alice, volontiers."})

    # carol gets the e-mails (real SMTP) and answers from the link.
    to_carol = [m for m in smtp_server.messages if m["To"] == "carol@exemple.org"]
    assert to_carol, "carol got no mail"
    first = text_part(to_carol[0])
    assert "Bonjour à vous deux" in first
    assert to_carol[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"https?://\S+/messages/\d+\S*", first).group(0)
    login(client, "carol")
    page = client.get(local_path(link)).get_data(as_text=True)
    assert "Bonjour alice, volontiers." in page
    assert (
        client.post_form(f"/messages/{cid}/reply", {"body": "Je suis là aussi."}).status_code == 302
    )
    # The mention inside the conversation told nobody outside it.
    assert not [m for m in smtp_server.messages if m["To"] == "dave@exemple.org"]

    # alice adds dave; bob leaves.
    login(client, "alice")
    assert client.post_form(f"/messages/{cid}/invite", {"username": "dave"}).status_code == 302
    login(client, "dave")
    page = client.get(f"/messages/{cid}").get_data(as_text=True)
    assert "Je suis là aussi." in page
    client.post_form(f"/messages/{cid}/reply", {"body": "Merci de m'avoir ajouté, voici mon idée."})
    login(client, "bob")
    assert client.post_form(f"/messages/{cid}/leave").status_code == 302
    login(client, "alice")
    assert "bob a quitté la conversation" in client.get(f"/messages/{cid}").get_data(as_text=True)

    # carol blocks alice: alice can no longer write to her.
    login(client, "carol")
    client.post_form("/users/alice/block")
    login(client, "alice")
    response = client.post_form(
        "/messages/new", {"to": "carol", "subject": "Rien que nous deux", "body": "Coucou"}
    )
    assert response.status_code == 400
    assert "ne souhaite pas recevoir vos messages" in response.get_data(as_text=True)

    # alice reports one of dave's messages.
    dave_message = _last_message_id(app, "dave")
    response = client.post_form(
        f"/messages/{dave_message}/report", {"reason": "abuse", "note": "Propos déplacés"}
    )
    assert response.status_code == 302

    # A moderator sees that message with its context, and nothing else.
    login(client, "modo")
    assert client.get(f"/messages/{cid}").status_code == 404
    queue = client.get("/moderation/").get_data(as_text=True)
    assert "Message privé signalé" in queue and "voici mon idée" not in queue
    review = client.get(f"/moderation/messages/{dave_message}").get_data(as_text=True)
    assert "avoir ajouté, voici mon idée" in review
    with app.app_context():
        context_ids = [
            m.id
            for m in db.session.execute(
                select(Message)
                .where(Message.conversation_id == cid, Message.kind == "message")
                .order_by(Message.id)
            ).scalars()
        ]
        shown = context_ids[
            max(0, context_ids.index(dave_message) - 5) : context_ids.index(dave_message) + 1
        ]
        entry = db.session.execute(
            select(LogEntry).where(LogEntry.action == "message:view-context")
        ).scalar_one()
        assert json.loads(entry.details)["shown"] == shown
        assert db.session.execute(select(Report.message_id)).scalar() == dave_message
    assert "message:view-context" in client.get("/moderation/log").get_data(as_text=True)
    # A message never reported: nothing to read.
    other = _last_message_id(app, "bob")
    assert client.get(f"/moderation/messages/{other}").status_code == 404
    response = client.post_form(
        f"/moderation/messages/{dave_message}/decide",
        {"decision": "hide", "reason": "Propos injurieux"},
    )
    assert response.status_code == 302
    login(client, "alice")
    assert "Message masqué par la modération." in client.get(f"/messages/{cid}").get_data(
        as_text=True
    )
