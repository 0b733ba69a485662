"""The service API other domains call, rate limits, mail preferences, page budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db
from forum.messages import queries, services
from forum.messages.models import Conversation, Message, Participant
from forum.notifications.models import Notification, OutboxMail
from forum.notifications.preferences import set_preferences
from forum.refusals import Refused
from tests.factories import make_user
from tests.messages.test_views import login


def _users(*names):
    return [db.session.execute(select(User).where(User.username == n)).scalar_one() for n in names]


@pytest.fixture
def people(app):
    for name in ("alice", "bob", "carol", "dave"):
        make_user(app, name)


def test_add_participant_visible_from_now_and_system_lines(app, people):
    with app.app_context():
        alice, bob, carol = _users("alice", "bob", "carol")
        conversation = services.start_conversation(
            alice, [bob], "Mise en relation", "Un premier échange", origin="directory"
        )
        services.post_message(conversation, bob, "Une réponse avant l'arrivée de carol")
        services.add_participant(conversation, carol, by=alice, visible_from_now=True)
        line = services.system_line(conversation, "La médiation est ouverte.")
        assert line.kind == "system"
        conversation = queries.conversation_of(conversation.id)
        row = conversation.participant(carol)
        shown = queries.visible_messages(conversation, row)
        assert [m.kind for m in shown] == ["joined", "system"]
        for_bob = queries.visible_messages(conversation, conversation.participant(bob))
        assert [m.kind for m in for_bob] == ["message", "message", "joined", "system"]
        assert conversation.origin == "directory"
        with pytest.raises(Refused):
            services.add_participant(conversation, carol, by=alice)
        with pytest.raises(services.Forbidden):
            services.add_participant(conversation, _users("dave")[0], by=bob)


def test_silenced_members_cannot_start_or_write(app, people):
    with app.app_context():
        alice, bob = _users("alice", "bob")
        conversation = services.start_conversation(alice, [bob], "Un sujet", "Bonjour bob")
        bob.silenced_until = utcnow() + timedelta(days=1)
        db.session.commit()
        with pytest.raises(services.Forbidden):
            services.post_message(conversation, bob, "Je réponds quand même")
        with pytest.raises(services.Forbidden):
            services.start_conversation(bob, [alice], "Autre sujet", "Bonjour alice")


def test_rate_limits_for_new_accounts_and_between_messages(make_app):
    app = make_app(FORUM_RATE_LIMITS="default")
    for name in ("alice", "bob"):
        make_user(app, name)
    with app.app_context():
        alice, bob = _users("alice", "bob")
        for n in range(3):
            conversation = services.start_conversation(alice, [bob], f"Sujet {n}", f"Texte {n}")
            for row in db.session.execute(select(Message)).scalars():
                row.created_at -= timedelta(seconds=10)
            db.session.commit()
        with pytest.raises(services.TooMany):
            services.start_conversation(alice, [bob], "Un de trop", "Texte")
        services.post_message(conversation, bob, "Une réponse")
        with pytest.raises(services.TooMany):
            services.post_message(conversation, bob, "Une autre, trop vite")
    client = app.test_client()
    login(client, "alice")
    response = client.post_form(
        "/messages/new", {"to": "bob", "subject": "Encore un", "body": "Texte"}
    )
    assert response.status_code == 429


def test_mail_preference_digest_never_and_mute(app, people):
    with app.app_context():
        alice, bob, carol, dave = _users("alice", "bob", "carol", "dave")
        set_preferences(bob, {"message": "digest"})
        set_preferences(carol, {"message": "never"})
        conversation = services.start_conversation(alice, [bob, carol, dave], "Sujet", "Texte")
        services.set_muted(conversation, dave, True)
        services.post_message(conversation, alice, "Deuxième message")
        mails = db.session.execute(select(OutboxMail.to_address)).scalars().all()
        assert "bob@exemple.org" not in mails and "carol@exemple.org" not in mails
        assert mails.count("dave@exemple.org") == 1  # the first message, before muting
        pending = db.session.execute(
            select(func.count()).where(
                Notification.user_id == bob.id, Notification.digest_state == "pending"
            )
        ).scalar()
        assert pending == 2
        db.session.refresh(dave)
        assert dave.unread_conversations == 0
        from forum.notifications.digests import send_digests

        assert send_digests() >= 1
        digest = db.session.execute(
            select(OutboxMail).where(OutboxMail.to_address == "bob@exemple.org")
        ).scalar_one()
        assert "nouveaux messages privés" in digest.text_body
        assert "Deuxième message" not in digest.text_body


def test_a_conversation_page_costs_the_same_queries_whatever_its_length(
    app, client, people, query_counter
):
    with app.app_context():
        alice, bob = _users("alice", "bob")
        conversation = services.start_conversation(alice, [bob], "Un long échange", "Début")
        cid = conversation.id

    def add(n):
        with app.app_context():
            conversation = db.session.get(Conversation, cid)
            a, b = _users("alice", "bob")
            for i in range(n):
                services.post_message(conversation, a if i % 2 else b, f"Message {i} **gras**")

    def cost() -> int:
        client.get(f"/messages/{cid}")  # the read position moves once
        with query_counter() as counter:
            response = client.get(f"/messages/{cid}")
        assert response.status_code == 200
        return counter.count

    login(client, "bob")
    add(2)
    small = cost()
    add(40)
    large = cost()
    # The member, the conversation, its participants, the messages, my blocks.
    assert small == large == 5
    with app.app_context():
        row = db.session.get(Participant, (cid, _users("bob")[0].id))
        assert not row.counted


def test_the_demo_opens_a_conversation_between_a_cse_and_a_cooperative(app, runner):
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        conversation = db.session.execute(
            select(Conversation).where(Conversation.origin == "demo")
        ).scalar_one()
        assert conversation.message_count == 2
        names = sorted(row.user.username for row in conversation.participants)
        assert names == ["camille-scop", "karim.cse"]
        karim = db.session.execute(select(User).where(User.username == "karim.cse")).scalar_one()
        # camille's answer is unread for karim (the directory's demo gives him another one).
        row = next(r for r in conversation.participants if r.user_id == karim.id)
        assert row.last_read_message_id < conversation.last_message_id
        assert karim.unread_conversations >= 1
