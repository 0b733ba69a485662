"""Erasure: the account is gone, the debates read on, no trace of the person remains."""

from __future__ import annotations

from sqlalchemy import String, Text, func, or_, select

from forum.accounts.models import User
from forum.discussions.models import Post, PostRevision
from forum.extensions import db
from forum.moderation.models import LogEntry, Report, Sanction
from forum.seminars.models import Registration
from tests.factories import PASSWORD
from tests.privacy.conftest import DISPLAY, EMAIL, USERNAME, member_everywhere


def _traces(needles: list[str]) -> list[str]:
    """Every (table.column, value) of the database where one of ``needles`` appears."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text):
                continue
            clause = or_(*(func.lower(column).contains(needle.lower()) for needle in needles))
            for value in db.session.execute(select(column).where(clause)).scalars():
                found.append(f"{table.name}.{column.name}: {value[:80]!r}")
    return found


def _erase(client, auth, with_posts: bool):
    auth.login(USERNAME)
    form = {"password": PASSWORD}
    if with_posts:
        form["with_posts"] = "y"
    return client.post_form("/settings/delete", form)


def test_erasure_keeps_posts_under_an_anonymous_name_and_leaves_no_trace(app, client, auth):
    world = member_everywhere(app)
    with app.app_context():
        assert _traces([EMAIL, USERNAME, DISPLAY]), "the member should be everywhere first"

    response = _erase(client, auth, with_posts=False)
    assert response.status_code == 302

    anonymous = f"participant·e supprimé·e {world.user_id}"
    with app.app_context():
        assert _traces([EMAIL, USERNAME, DISPLAY]) == []
        user = db.session.get(User, world.user_id)
        assert user.username == anonymous and user.erased_at is not None
        # Posts and their revisions stay; the thread reads on, signed anonymously.
        kept = db.session.get(Post, world.kept_post_id)
        assert kept.deleted_at is None and "maintien des horaires du samedi" in kept.body_html
        assert db.session.execute(select(func.count()).select_from(PostRevision)).scalar() == 1
        # The conversation stays for bruno; his mention there names the anonymous account.
        from forum.messages.models import Message

        said = db.session.execute(select(Message.body_source)).scalars().all()
        assert any(f"Oui {anonymous}, demain matin." in text for text in said), said
        # Others' mention of the member names the anonymous account.
        mention = db.session.get(Post, world.bruno_reply_id)
        assert anonymous in mention.body_source
        # The seat went to the waiting list.
        waiting = db.session.get(Registration, world.waiting_id)
        assert waiting.status == "confirmed"
        # Moderation records keep their rows, under the pseudonymous id.
        assert db.session.execute(select(Report.reporter_id)).scalar() == world.user_id
        assert db.session.execute(select(Sanction.user_id)).scalar() == world.user_id
        erase_entry = db.session.execute(
            select(LogEntry).where(LogEntry.action == "user:erase")
        ).scalar_one()
        assert erase_entry.user_id == world.user_id and erase_entry.actor_id is None
        # Her union had no other representative: it keeps running, and moderators are told.
        orphaned = db.session.execute(
            select(LogEntry).where(LogEntry.action == "organisation:orphaned")
        ).scalar_one()
        assert orphaned.user_id == world.user_id and orphaned.actor_id is None

    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert anonymous in page and "maintien des horaires du samedi" in page
    # The account no longer logs in, by pseudo or by address.
    for login in (USERNAME, EMAIL, anonymous):
        client.post_form("/auth/logout")
        response = auth.login(login, PASSWORD)
        assert response.status_code == 400 and "_user_id" not in _session(client)


def _session(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def test_erasure_with_posts_leaves_placeholders_and_keeps_others_replies(app, client, auth):
    world = member_everywhere(app)
    response = _erase(client, auth, with_posts=True)
    assert response.status_code == 302
    with app.app_context():
        assert _traces([EMAIL, USERNAME, DISPLAY]) == []
        mine = db.session.execute(select(Post).where(Post.author_id == world.user_id)).scalars()
        for post in mine:
            assert post.deleted_at is not None and post.body_source == post.body_html == ""
        assert db.session.execute(select(func.count()).select_from(PostRevision)).scalar() == 0
        assert db.session.get(Post, world.bruno_reply_id).deleted_at is None
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "comment avez-vous fait" in page
    assert "maintien des horaires" not in page


def test_wrong_password_erases_nothing(app, client, auth):
    world = member_everywhere(app)
    auth.login(USERNAME)
    response = client.post_form("/settings/delete", {"password": "pas le bon"})
    assert response.status_code == 400
    assert "Le mot de passe est incorrect" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.user_id).username == USERNAME


def test_anonymous_visitors_get_the_login_page(client):
    for url in ("/settings/delete", "/settings/data"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_admin_erases_an_account_and_the_log_says_who(app, client, auth):
    world = member_everywhere(app)
    auth.login("orga")
    assert (
        client.get(f"/users/{USERNAME}")
        .get_data(as_text=True)
        .count(f"/admin/users/{USERNAME}/erase")
        == 1
    )
    response = client.post_form(f"/admin/users/{USERNAME}/erase", {})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.execute(
            select(LogEntry).where(LogEntry.action == "user:erase")
        ).scalar_one()
        admin = db.session.execute(select(User).where(User.username == "orga")).scalar_one()
        assert (entry.actor_id, entry.user_id) == (admin.id, world.user_id)


def test_members_and_moderators_cannot_erase_others(app, client, auth):
    member_everywhere(app)
    for login in ("bruno", "veille"):
        auth.login(login)
        assert client.get(f"/admin/users/{USERNAME}/erase").status_code == 403
        assert client.post_form(f"/admin/users/{USERNAME}/erase", {}).status_code == 403
        assert f"/admin/users/{USERNAME}/erase" not in client.get(f"/users/{USERNAME}").get_data(
            as_text=True
        )
        auth.logout()


def test_erase_user_command(app, runner):
    world = member_everywhere(app)
    result = runner.invoke(args=["forum", "erase-user", USERNAME, "--with-posts"])
    assert result.exit_code == 0, result.output
    assert f"participant·e supprimé·e {world.user_id}" in result.output
    again = runner.invoke(args=["forum", "erase-user", f"participant·e supprimé·e {world.user_id}"])
    assert again.exit_code != 0 and "déjà supprimé" in again.output
    with app.app_context():
        assert _traces([EMAIL, USERNAME, DISPLAY]) == []
