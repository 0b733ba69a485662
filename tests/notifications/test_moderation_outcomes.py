"""Moderation outcomes reach the member concerned: under the bell, and by e-mail."""

from __future__ import annotations

import re

from forum.extensions import db
from forum.notifications.models import Notification
from tests.factories import login, make_reply, make_thread, make_user
from tests.notifications.conftest import local_path, text_part

SECRET = "Un texte qui ne doit jamais réapparaître ailleurs, n°4242."


def _client(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def _bell(client) -> int:
    home = client.get("/").get_data(as_text=True)
    found = re.search(r'class="bell-count"[^>]*>(\d+)<', home)
    return int(found.group(1)) if found else 0


def _setup(app):
    make_user(app, "autrice")
    make_user(app, "lectrice")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, _id(app, "lectrice"), title="Le marché du samedi")
    post = make_reply(app, _id(app, "autrice"), thread, body=SECRET)
    return thread, post


def _id(app, username: str) -> int:
    from sqlalchemy import select

    from forum.accounts.models import User

    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def _moderation_rows(app, username: str) -> list[tuple[str, int | None]]:
    with app.app_context():
        rows = db.session.query(Notification).filter_by(
            user_id=_id(app, username), kind="moderation"
        )
        return [(row.event, row.post_id) for row in rows]


def test_hiding_a_post_notifies_its_author_without_its_text(app):
    _thread, post = _setup(app)
    author, modo = _client(app, "autrice"), _client(app, "modo")
    before = _bell(author)
    response = modo.post_form(f"/posts/{post.id}/hide", {"reason": "Propos injurieux"})
    assert response.status_code == 302
    assert _bell(author) == before + 1
    assert _moderation_rows(app, "autrice") == [("post_hidden", post.id)]
    page = author.get("/notifications").get_data(as_text=True)
    assert "Votre message dans « Le marché du samedi » a été masqué par la modération" in page
    assert SECRET not in page
    # The link opens the post, where its author reads the reason.
    opened = author.post_form(f"/notifications/{_first_id(page)}/read", {})
    assert opened.status_code == 302
    assert f"/posts/{post.id}" in opened.headers["Location"]
    shown = author.get(opened.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Propos injurieux" in shown

    # Restoring tells them too.
    assert modo.post_form(f"/posts/{post.id}/restore", {"reason": "Erreur"}).status_code == 302
    assert ("post_restored", post.id) in _moderation_rows(app, "autrice")


def _first_id(page: str) -> int:
    return int(re.search(r'id="notification-(\d+)"', page).group(1))


def test_dismissing_a_report_notifies_the_reporter(app):
    _thread, post = _setup(app)
    reader, modo = _client(app, "lectrice"), _client(app, "modo")
    assert reader.post_form(f"/posts/{post.id}/report", {"reason": "spam"}).status_code == 302
    before = _bell(reader)
    response = modo.post_form(
        f"/moderation/posts/{post.id}/decide", {"decision": "dismiss", "reason": "Rien à redire"}
    )
    assert response.status_code == 302
    assert _bell(reader) == before + 1
    assert _moderation_rows(app, "lectrice") == [("report_handled", None)]
    page = reader.get("/notifications").get_data(as_text=True)
    assert "Votre signalement a été traité" in page
    assert SECRET not in page
    opened = reader.post_form(f"/notifications/{_first_id(page)}/read", {})
    assert opened.headers["Location"].endswith("/my/reports")
    # The author was not told anything: the post was never hidden.
    assert _moderation_rows(app, "autrice") == []


def test_hiding_after_reports_tells_reporters_and_author(app):
    _thread, post = _setup(app)
    reader, modo = _client(app, "lectrice"), _client(app, "modo")
    assert reader.post_form(f"/posts/{post.id}/report", {"reason": "spam"}).status_code == 302
    response = modo.post_form(
        f"/moderation/posts/{post.id}/decide", {"decision": "hide", "reason": "Publicité"}
    )
    assert response.status_code == 302
    assert _moderation_rows(app, "lectrice") == [("report_handled", None)]
    assert _moderation_rows(app, "autrice") == [("post_hidden", post.id)]
    # The reporter's list never shows the hidden text.
    assert SECRET not in reader.get("/notifications").get_data(as_text=True)


def test_a_warning_notifies_the_user(app):
    _setup(app)
    author, modo = _client(app, "autrice"), _client(app, "modo")
    before = _bell(author)
    response = modo.post_form(
        "/users/autrice/sanction", {"kind": "warn", "reason": "Restez courtois·e"}
    )
    assert response.status_code == 302
    assert _bell(author) == before + 1
    assert _moderation_rows(app, "autrice") == [("sanction", None)]
    page = author.get("/notifications").get_data(as_text=True)
    assert "La modération a pris une décision à votre sujet" in page


def test_the_author_receives_an_e_mail(mail_app, smtp_server):
    _thread, post = _setup(mail_app)
    modo = _client(mail_app, "modo")
    smtp_server.inbox.messages.clear()
    assert modo.post_form(f"/posts/{post.id}/hide", {"reason": "Propos injurieux"}).status_code == (
        302
    )
    [message] = smtp_server.inbox.to("autrice@exemple.org")
    assert message["Subject"] == (
        "Votre message dans « Le marché du samedi » a été masqué par la modération"
    )
    body = text_part(message)
    assert SECRET not in body
    url = next(word for word in body.split() if "/posts/" in word)
    assert local_path(url) == f"/posts/{post.id}"

    # A warning is mailed with its reason.
    assert (
        modo.post_form(
            "/users/autrice/sanction", {"kind": "warn", "reason": "Restez courtois·e"}
        ).status_code
        == 302
    )
    warned = smtp_server.inbox.to("autrice@exemple.org")[-1]
    assert warned["Subject"] == "Un·e modérateur·rice vous a adressé un avertissement"
    assert "Restez courtois·e" in text_part(warned)
