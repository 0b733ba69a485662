"""Who may do what in private conversations: viewer × action, on real rows.

A conversation exists for its participants only; moderators read a reported message
through ``message:review`` and never through ``conversation:view``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.accounts.models import AnonymousUser, User
from forum.db import utcnow
from forum.extensions import db
from forum.messages import queries, services
from forum.messages.models import Message
from forum.permissions import Action, can
from tests.factories import make_user

T, F = True, False
VIEWERS = ("anonymous", "outsider", "starter", "participant", "gone", "silenced", "moderator")

#: (action, object, state) -> answer per viewer, in VIEWERS order. Objects: the
#: conversation, the starter's message ("own" for the starter), the participant's message.
MATRIX = {
    ("conversation:view", "conversation", "open"): (F, F, T, T, T, T, F),
    ("conversation:reply", "conversation", "open"): (F, F, T, T, F, F, F),
    ("conversation:invite", "conversation", "open"): (F, F, T, F, F, F, F),
    ("conversation:leave", "conversation", "open"): (F, F, T, T, F, T, F),
    ("conversation:start", "none", "open"): (F, T, T, T, T, F, T),
    ("message:edit", "starter_message", "fresh"): (F, F, T, F, F, F, F),
    ("message:edit", "starter_message", "old"): (F, F, F, F, F, F, F),
    ("message:delete", "starter_message", "old"): (F, F, T, F, F, F, F),
    ("message:report", "starter_message", "fresh"): (F, F, F, T, T, F, F),
    ("message:review", "starter_message", "fresh"): (F, F, F, F, F, F, T),
    ("user:block", "starter", "open"): (F, T, F, T, T, T, T),
}


@pytest.mark.parametrize(("action", "obj", "state"), list(MATRIX))
def test_conversation_permission_matrix(app, action, obj, state):
    names = {v: make_user(app, v, role="moderator" if v == "moderator" else "member").id
             for v in VIEWERS if v != "anonymous"}  # fmt: skip
    with app.app_context():
        users = {v: db.session.get(User, i) for v, i in names.items()}
        conversation = services.start_conversation(
            users["starter"],
            [users["participant"], users["gone"], users["silenced"]],
            "Une matrice",
            "Premier message",
        )
        services.leave(conversation, users["gone"])
        users["silenced"].silenced_until = utcnow() + timedelta(days=2)
        if state == "old":
            for row in db.session.execute(select(Message)).scalars():
                row.created_at -= timedelta(minutes=16)
        db.session.commit()
        conversation = queries.conversation_of(conversation.id)
        message = (
            db.session.execute(
                select(Message).where(Message.kind == "message").order_by(Message.id)
            )
            .scalars()
            .first()
        )
        target = {
            "conversation": conversation,
            "none": None,
            "starter_message": message,
            "starter": users["starter"],
        }[obj]
        answers = tuple(
            can(AnonymousUser() if v == "anonymous" else users[v], Action(action), target)
            for v in VIEWERS
        )
    assert answers == MATRIX[(action, obj, state)]


@pytest.mark.parametrize("state", ["fresh", "old"])
def test_conversation_rights_agree_with_can_for_every_message(app, state):
    from forum.permissions import ConversationRights

    names = {v: make_user(app, v, role="moderator" if v == "moderator" else "member").id
             for v in VIEWERS if v != "anonymous"}  # fmt: skip
    with app.app_context():
        users = {v: db.session.get(User, i) for v, i in names.items()}
        conversation = services.start_conversation(
            users["starter"], [users["participant"], users["gone"], users["silenced"]],
            "Des droits", "Premier message",
        )  # fmt: skip
        first = services.post_message(conversation, users["participant"], "Une réponse")
        services.post_message(conversation, users["gone"], "Je m'en vais bientôt")
        services.leave(conversation, users["gone"])
        services.post_message(conversation, users["starter"], "Après son départ")
        services.delete_message(users["participant"], db.session.get(Message, first.id))
        users["silenced"].silenced_until = utcnow() + timedelta(days=2)
        if state == "old":
            for row in db.session.execute(select(Message)).scalars():
                row.created_at -= timedelta(minutes=16)
        db.session.commit()
        conversation = queries.conversation_of(conversation.id)
        messages = db.session.execute(select(Message).order_by(Message.id)).scalars().all()
        actions = (Action.MESSAGE_EDIT, Action.MESSAGE_DELETE, Action.MESSAGE_REPORT)
        for viewer in VIEWERS:
            user = AnonymousUser() if viewer == "anonymous" else users[viewer]
            rights = ConversationRights(user, conversation)
            for message in messages:
                expected = {a for a in actions if can(user, a, message)}
                assert rights.message(message) == expected, (viewer, message)
