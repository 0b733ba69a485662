"""Lock and pin carry the moderator's reason to the log, the readers and the author."""

from __future__ import annotations

from sqlalchemy import select

from forum.discussions.models import Thread
from forum.extensions import db
from forum.moderation.models import LogEntry
from forum.notifications.models import Notification
from tests.factories import PASSWORD, make_thread, make_user


def _entries(app, thread_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(LogEntry.action, LogEntry.reason)
            .where(LogEntry.thread_id == thread_id)
            .order_by(LogEntry.id)
        ).all()
        return [tuple(row) for row in rows]


def test_lock_and_pin_reasons_reach_the_log_the_page_and_the_author(app, client):
    author = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, author, title="Un fil qui s'échauffe")
    client.post_form("/auth/login", {"login": "modo", "password": PASSWORD})

    tools = client.get(f"/threads/{thread.id}/moderate").get_data(as_text=True)
    assert f'action="/threads/{thread.id}/lock"' in tools
    assert f'action="/threads/{thread.id}/pin"' in tools

    reason = "Les échanges tournent aux attaques personnelles"
    answer = client.post_form(f"/threads/{thread.id}/lock", {"reason": reason})
    assert answer.status_code == 302
    client.post_form(f"/threads/{thread.id}/pin", {"reason": "Annonce de la rencontre"})
    assert _entries(app, thread.id) == [
        ("thread:lock", reason),
        ("thread:pin", "Annonce de la rencontre"),
    ]
    with app.app_context():
        assert db.session.get(Thread, thread.id).lock_reason == reason
        (told,) = db.session.execute(
            select(Notification).where(Notification.user_id == author.id)
        ).scalars()
        assert told.event == "thread_locked" and told.thread_id == thread.id

    client.post_form("/auth/logout")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Ce fil est verrouillé" in page and f"Raison : {reason}" in page

    client.post_form("/auth/login", {"login": "alice", "password": PASSWORD})
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "Votre fil « Un fil qui s&#39;échauffe » a été verrouillé" in inbox
    client.post_form("/auth/logout")

    client.post_form("/auth/login", {"login": "modo", "password": PASSWORD})
    client.post_form(f"/threads/{thread.id}/unlock", {"reason": "Le calme est revenu"})
    assert _entries(app, thread.id)[-1] == ("thread:unlock", "Le calme est revenu")
    with app.app_context():
        assert db.session.get(Thread, thread.id).lock_reason == ""
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert reason not in page
