"""Watching, in-app notifications, the bell, grouping, marking read, no leaks, fan-out cost."""

from __future__ import annotations

import re

from sqlalchemy import event, insert, select

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.notifications.models import Notification, ThemeWatch, ThreadState
from tests.factories import make_reply, make_thread, make_user

BELL_RE = re.compile(r'class="bell-count"[^>]*>(\d+)<')


def bell(client) -> int:
    match = BELL_RE.search(client.get("/").get_data(as_text=True))
    return int(match.group(1)) if match else 0


def notifications_of(app, user) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).scalars()
        return [(n.kind, n.thread_id, n.post_id, n.read_at is not None) for n in rows]


def test_reply_to_my_post_rings_the_bell_and_marks_read(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice, title="Les cantines scolaires en régie")
    post = make_reply(app, bob, thread, body="Je ne suis pas d'accord.")

    auth.login("alice")
    assert bell(client) == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert "bob vous a répondu dans « Les cantines scolaires en régie »" in page
    notification_id = re.search(r'id="notification-(\d+)"', page).group(1)

    response = client.post_form(f"/notifications/{notification_id}/read")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/posts/{post.id}"
    assert bell(client) == 0


def test_someone_elses_notification_is_not_found(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    make_reply(app, bob, make_thread(app, alice))
    with app.app_context():
        notification_id = db.session.execute(select(Notification.id)).scalar_one()
    auth.login("bob")
    assert client.post_form(f"/notifications/{notification_id}/read").status_code == 404


def test_authors_and_repliers_watch_their_threads(app, client, auth):
    alice, bob, carol = make_user(app, "alice"), make_user(app, "bob"), make_user(app, "carol")
    thread = make_thread(app, alice)
    make_reply(app, bob, thread)
    make_reply(app, carol, thread)
    # Alice (author) hears of Bob's reply to her post and of Carol's new post; Bob, of Carol's.
    assert [n[0] for n in notifications_of(app, alice)] == ["reply", "reply"]
    assert [n[0] for n in notifications_of(app, bob)] == ["watched_post"]
    assert notifications_of(app, carol) == []

    auth.login("carol")
    following = client.get("/following").get_data(as_text=True)
    assert thread.title in following


def test_watch_levels_over_http(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    auth.login("bob")
    for level in ("watching", "muted", "normal"):
        response = client.post_form(f"/threads/{thread.id}/watch", {"level": level})
        assert response.status_code == 302
        with app.app_context():
            assert db.session.get(ThreadState, (bob.id, thread.id)).level == level
    assert client.post_form(f"/threads/{thread.id}/watch", {"level": "tout"}).status_code == 400
    assert client.post_form("/threads/999999/watch", {"level": "watching"}).status_code == 404

    assert client.post_form("/themes/urbain/watch", {"level": "watching"}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(ThemeWatch.user_id)).scalars().all() == [bob.id]
    page = client.get("/themes/urbain").get_data(as_text=True)
    assert "Ne plus suivre les nouveaux fils" in page
    assert "Urbain" in client.get("/following").get_data(as_text=True)
    assert client.post_form("/themes/urbain/watch", {"level": "normal"}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(ThemeWatch)).first() is None


def test_anonymous_cannot_watch(app, client):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    response = client.post_form(f"/threads/{thread.id}/watch", {"level": "watching"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert "Suivre les nouveaux fils" not in client.get("/themes/urbain").get_data(as_text=True)


def test_muted_thread_tells_nothing_even_mentions(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    auth.login("alice")
    client.post_form(f"/threads/{thread.id}/watch", {"level": "muted"})
    make_reply(app, bob, thread, body="Qu'en pense @alice ?")
    assert notifications_of(app, alice) == []


def test_mention_links_to_the_profile_and_notifies(app, client, auth):
    alice, bob, carol = make_user(app, "alice"), make_user(app, "bob"), make_user(app, "carol")
    thread = make_thread(app, bob)
    post = make_reply(app, bob, thread, body="Qu'en pense @alice ? Et @personne ? `@carol`")
    assert 'href="/users/alice"' in post.body_html
    assert notifications_of(app, alice) == [("mention", thread.id, post.id, False)]
    assert notifications_of(app, carol) == []  # inside code: not a mention
    auth.login("alice")
    assert "bob vous a mentionné·e" in client.get("/notifications").get_data(as_text=True)


def test_new_thread_in_watched_theme(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    auth.login("alice")
    client.post_form("/themes/urbain/watch", {"level": "watching"})
    thread = make_thread(app, bob, "urbain", title="Les friches industrielles")
    make_thread(app, bob, "services-publics")  # not watched
    assert [n[:2] for n in notifications_of(app, alice)] == [("new_thread", thread.id)]
    page = client.get("/notifications").get_data(as_text=True)
    assert "Nouveau fil « Les friches industrielles » par bob" in page


def test_notifications_are_grouped_per_thread(app, client, auth):
    _alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob, title="Le budget participatif")
    auth.login("alice")
    client.post_form(f"/threads/{thread.id}/watch", {"level": "watching"})
    for _ in range(3):
        make_reply(app, bob, thread)
    page = client.get("/notifications").get_data(as_text=True)
    assert "3 nouveaux messages dans « Le budget participatif »" in page
    assert bell(client) == 3
    notification_id = re.search(r'id="notification-(\d+)"', page).group(1)
    client.post_form(f"/notifications/{notification_id}/read", {"stay": "1"})
    assert bell(client) == 0  # the whole group


def test_deleted_post_leaves_no_notification(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    post = make_reply(app, bob, thread, body="Un message regretté, @alice.")
    auth.login("bob")
    assert client.post_form(f"/posts/{post.id}/delete").status_code == 302
    auth.logout()
    auth.login("alice")
    assert bell(client) == 0
    page = client.get("/notifications").get_data(as_text=True)
    assert "regretté" not in page and "bob" not in page.split("<main", 1)[1]
    assert notifications_of(app, alice) == []


def test_deleted_post_is_filtered_from_the_list_even_if_a_row_remains(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice, title="Fil visible")
    post = make_reply(app, bob, thread)
    with app.app_context():  # a post removed without going through the service
        db.session.get(discussions.Post, post.id).deleted_at = utcnow()
        db.session.commit()
    auth.login("alice")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Fil visible" not in page
    assert "Aucune notification" in page


def test_hidden_post_is_filtered_from_the_list_even_if_a_row_remains(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice, title="Fil visible")
    post = make_reply(app, bob, thread, body="Une réponse bientôt masquée.")
    auth.login("alice")
    assert "Fil visible" in client.get("/notifications").get_data(as_text=True)
    with app.app_context():  # hidden without going through the service: the row remains
        db.session.get(discussions.Post, post.id).hidden_at = utcnow()
        db.session.commit()
    assert len(notifications_of(app, alice)) == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert "Fil visible" not in page
    assert "Aucune notification" in page


def test_mark_all_read_across_pages(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    with app.app_context():
        thread_ids = []
        for n in range(60):
            theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
            thread_ids.append(
                discussions.create_thread(
                    db.session.get(User, alice.id), theme, f"Fil numéro {n}", f"Ouverture n°{n}."
                ).id
            )
    for thread_id in thread_ids:
        make_reply(app, bob, thread_id)
    auth.login("alice")
    assert bell(client) == 60
    page2 = client.get("/notifications?page=2").get_data(as_text=True)
    assert page2.count('class="notification unread"') == 10
    assert client.post_form("/notifications/read-all").status_code == 302
    assert bell(client) == 0
    for url in ("/notifications", "/notifications?page=2"):
        assert 'class="notification unread"' not in client.get(url).get_data(as_text=True)


def _bulk_watchers(app, thread_id: int, count: int) -> None:
    now = utcnow()
    with app.app_context():
        start = db.session.execute(select(db.func.count()).select_from(User)).scalar_one()
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"veilleur{start + i}",
                    "username_key": f"veilleur{start + i}",
                    "email": f"veilleur{start + i}@exemple.org",
                    "email_key": f"veilleur{start + i}@exemple.org",
                    "password_hash": "x",
                    "created_at": now,
                    "email_verified_at": now,
                }
                for i in range(count)
            ],
        )
        ids = db.session.execute(
            select(User.id).where(User.username.like("veilleur%")).order_by(User.id.desc())
        ).scalars()
        db.session.execute(
            insert(ThreadState),
            [
                {"user_id": uid, "thread_id": thread_id, "level": "watching", "updated_at": now}
                for uid in list(ids)[:count]
            ],
        )
        db.session.commit()


def test_fan_out_to_a_thousand_watchers_costs_constant_queries(app):
    alice = make_user(app, "alice")
    small, large = make_thread(app, alice), make_thread(app, alice)
    _bulk_watchers(app, small.id, 5)
    _bulk_watchers(app, large.id, 1000)

    def reply_queries(thread) -> int:
        statements = []

        def record(_conn, _cursor, statement, *_args):
            if statement.lstrip().split(None, 1)[0].upper() not in {"BEGIN", "COMMIT"}:
                statements.append(statement)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                discussions.reply(
                    db.session.get(User, alice.id),
                    db.session.get(Thread, thread.id),
                    f"Du neuf dans le fil {thread.id}.",
                )
            finally:
                event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    assert reply_queries(small) == reply_queries(large)
    with app.app_context():
        count = db.session.execute(
            select(db.func.count())
            .select_from(Notification)
            .where(Notification.thread_id == large.id)
        ).scalar_one()
        assert count == 1000
        watcher = db.session.execute(
            select(User).where(User.username.like("veilleur%")).order_by(User.id.desc())
        ).scalar()
        assert watcher.unread_notifications == 1


def test_a_failing_fan_out_never_fails_the_post(app, client, auth, monkeypatch):
    from forum.notifications import fanout as services

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_recipients_of", broken)
    alice, _bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    auth.login("bob")
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "Ça passe quand même."})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Thread, thread.id).reply_count == 1


def test_the_authors_own_state_is_written_with_the_post(app, client, auth, monkeypatch):
    """Read up to the reply, and watching: in the post's transaction, fan-out or not."""
    from forum.notifications import fanout as services

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_recipients_of", broken)
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    make_reply(app, alice, thread)
    auth.login("bob")
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "Je suis ce fil."})
    post_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        state = db.session.get(ThreadState, (bob.id, thread.id))
        assert (state.level, state.last_read_post_id, state.read_count) == (
            "watching",
            post_id,
            3,
        )


def test_mentioning_someone_who_cannot_see_the_thread_notifies_nobody(app, monkeypatch):
    from forum import permissions

    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, bob, title="Un fil réservé")
    real_rule = permissions._RULES[permissions.Action.THREAD_VIEW]
    monkeypatch.setitem(
        permissions._RULES,
        permissions.Action.THREAD_VIEW,
        lambda user, obj: user.id != alice.id and real_rule(user, obj),
    )
    make_reply(app, bob, thread, body="Psst @alice, regarde ça.")
    assert notifications_of(app, alice) == []


def test_pages_of_following_resolve_and_need_a_login(app, client, auth):
    pages = ("/notifications", "/unread", "/following", "/notifications/preferences")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login")
    assert client.get("/auth/reset").status_code == 200
    make_user(app, "alice")
    auth.login("alice")
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_notification_page_costs_constant_queries(app, client, auth, query_counter):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    make_reply(app, bob, thread)
    auth.login("alice")

    def count() -> int:
        with query_counter() as counter:
            assert client.get("/notifications").status_code == 200
        return counter.count

    small = count()
    for n in range(20):
        make_reply(
            app, bob, make_thread(app, alice, title=f"Encore un fil {n}"), body=f"@alice ! ({n})"
        )
    assert count() == small <= 10
