"""E-mail through a real SMTP server: content, links, unsubscribe, digest, retry, fallback."""

from __future__ import annotations

import logging

from sqlalchemy import select

from forum.db import utcnow
from forum.extensions import db
from forum.jobs.services import run_pending
from forum.notifications.models import MailPreference, OutboxMail
from tests.factories import login, make_reply, make_thread, make_user
from tests.notifications.conftest import (
    SMTPServer,
    free_port,
    html_part,
    local_path,
    mail_config,
    text_part,
)


def link_in(text: str, start: str) -> str:
    return next(word for word in text.split() if word.startswith(start))


def test_reply_is_mailed_at_once_in_french_with_text_html_and_a_working_link(
    mail_app, mail_client, smtp_server
):
    alice, bob = make_user(mail_app, "alice"), make_user(mail_app, "bob")
    thread = make_thread(mail_app, alice, title="Les mutuelles de territoire")
    post = make_reply(mail_app, bob, thread, body="Une **vraie** piste, je trouve.")

    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert message["Subject"] == "bob vous a répondu dans « Les mutuelles de territoire »"
    assert message["From"] == "Rencontres sociales <forum@exemple.org>"
    text, html = text_part(message), html_part(message)
    assert "Une vraie piste, je trouve." in text
    assert "<blockquote>Une vraie piste, je trouve.</blockquote>" in html
    link = link_in(text, f"http://forum.exemple.org/posts/{post.id}")
    assert f'href="{link}"' in html
    response = mail_client.get(local_path(link))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#post-{post.id}")
    assert mail_client.get(response.headers["Location"]).status_code == 200
    # Bob wrote it: no mail to him; watched-thread news waits for the digest.
    assert smtp_server.inbox.to("bob@exemple.org") == []
    with mail_app.app_context():
        sent = db.session.execute(
            select(OutboxMail.sent_at).where(OutboxMail.subject.like("bob vous a répondu%"))
        ).scalar_one()
        assert sent is not None


def test_one_click_unsubscribe_without_login(mail_app, mail_client, smtp_server):
    alice, bob = make_user(mail_app, "alice"), make_user(mail_app, "bob")
    thread = make_thread(mail_app, alice)
    make_reply(mail_app, bob, thread)
    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url in text_part(message)
    raw = smtp_server.inbox.raw[-1].decode()
    assert f"List-Unsubscribe: <{url}>\r\n" in raw  # whole, not encoded (RFC 8058)

    # What a mail client does (RFC 8058): POST, no cookie, no CSRF token.
    response = mail_client.post(local_path(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "vous ne recevrez plus ces e-mails" in response.get_data(as_text=True)
    with mail_app.app_context():
        assert db.session.execute(
            select(MailPreference.kind, MailPreference.delivery).where(
                MailPreference.user_id == alice.id
            )
        ).all() == [("reply", "never")]
    make_reply(mail_app, bob, thread)
    assert len(smtp_server.inbox.to("alice@exemple.org")) == 1
    # The link opened in a browser shows a button first (link scanners change nothing).
    assert "Confirmer la désinscription" in mail_client.get(local_path(url)).get_data(as_text=True)


def test_forged_unsubscribe_token_changes_nothing(mail_app, mail_client):
    make_user(mail_app, "alice")
    response = mail_client.post("/notifications/unsubscribe/WzEsInJlcGx5Il0.faux")
    assert response.status_code == 400
    with mail_app.app_context():
        assert db.session.execute(select(MailPreference)).first() is None


def test_preferences_page(mail_app, mail_client, smtp_server):
    alice, bob = make_user(mail_app, "alice"), make_user(mail_app, "bob")
    login(mail_client, "alice")
    page = mail_client.get("/notifications/preferences").get_data(as_text=True)
    assert "Réponses à mes messages" in page
    response = mail_client.post_form(
        "/notifications/preferences",
        {
            "reply": "digest",
            "mention": "never",
            "watched_post": "immediately",
            "new_thread": "never",
            "seminar": "immediately",
        },
    )
    assert response.status_code == 302
    thread = make_thread(mail_app, alice, title="Réponses en résumé")
    make_reply(mail_app, bob, thread)  # a reply to Alice: now for the digest
    assert smtp_server.inbox.to("alice@exemple.org") == []
    mail_app.test_cli_runner().invoke(args=["forum", "send-digests"])
    [message] = smtp_server.inbox.to("alice@exemple.org")
    assert "1 nouveau message dans « Réponses en résumé »" in text_part(message)
    assert (
        mail_client.post_form("/notifications/preferences", {"reply": "souvent"}).status_code == 400
    )


def test_digest_groups_news_per_thread_and_is_sent_once(mail_app, mail_client, smtp_server):
    alice, bob = make_user(mail_app, "alice"), make_user(mail_app, "bob")
    login(mail_client, "alice")
    mail_client.post_form("/themes/urbain/watch", {"level": "watching"})
    watched = make_thread(mail_app, bob, "services-publics", title="Les transports gratuits")
    mail_client.post_form(f"/threads/{watched.id}/watch", {"level": "watching"})
    for _ in range(3):
        make_reply(mail_app, bob, watched)
    make_thread(mail_app, bob, "urbain", title="Jardins partagés en pied d'immeuble")
    assert smtp_server.inbox.to("alice@exemple.org") == []  # all of it waits for the digest

    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["forum", "send-digests"])
    assert result.exit_code == 0, result.output
    [digest] = smtp_server.inbox.to("alice@exemple.org")
    text = text_part(digest)
    assert "3 nouveaux messages dans « Les transports gratuits »" in text
    assert "« Jardins partagés en pied d'immeuble » (Urbain)" in text
    assert "Jardins partagés" in html_part(digest)
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = link_in(text, "http://forum.exemple.org/posts/")
    assert mail_client.get(local_path(link)).status_code == 302

    runner.invoke(args=["forum", "send-digests"])
    assert len(smtp_server.inbox.to("alice@exemple.org")) == 1

    # Unsubscribing from the digest turns off what it carried.
    mail_client.post(local_path(digest["List-Unsubscribe"].strip("<>")))
    with mail_app.app_context():
        prefs = dict(
            db.session.execute(
                select(MailPreference.kind, MailPreference.delivery).where(
                    MailPreference.user_id == alice.id
                )
            ).all()
        )
    # Reactions go to the digest by default: they are turned off with it.
    assert prefs == {"watched_post": "never", "new_thread": "never", "reaction": "never"}


def test_mail_waits_in_the_outbox_while_the_server_is_down(make_app):
    down = SMTPServer(free_port())  # nobody listens on this port yet
    app = make_app(**mail_config(down.port))
    client = app.test_client()
    alice, _bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    login(client, "bob")
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "Malgré la panne."})
    assert response.status_code == 302  # the reply is published all the same
    mine = select(OutboxMail).where(OutboxMail.subject.like("bob vous a répondu%"))
    with app.app_context():
        mail = db.session.execute(mine).scalar_one()
        assert mail.sent_at is None and mail.attempts == 0  # the request did not try
        # The worker tries, fails, and lets the mail wait before the next try.
        assert run_pending() == {"sent": 0, "failed": 1, "jobs": 0}
        mail = db.session.execute(mine).scalar_one()
        assert mail.sent_at is None and mail.attempts == 1 and mail.last_error
        assert mail.claim_token is None and mail.claimed_until > utcnow()
        assert run_pending() == {"sent": 0, "failed": 0, "jobs": 0}  # waiting
        db.session.remove()

    runner = app.test_cli_runner()
    assert runner.invoke(args=["forum", "send-mail"]).exit_code == 1  # still down
    down.start()
    try:
        result = runner.invoke(args=["forum", "send-mail"])
        assert result.exit_code == 0, result.output
        assert "1 e-mail(s) envoyé(s)" in result.output
        [message] = down.inbox.to("alice@exemple.org")
        assert "Malgré la panne." in text_part(message)
        assert runner.invoke(args=["forum", "send-mail"]).output.startswith("0 e-mail")
    finally:
        down.stop()


def test_without_mail_server_mails_go_to_the_log(app, caplog):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice)
    with caplog.at_level(logging.INFO, logger="forum"):
        make_reply(app, bob, thread, body="Journalisé.")
    assert any("alice@exemple.org" in record.getMessage() for record in caplog.records)
    with app.app_context():
        assert db.session.execute(select(OutboxMail.sent_at)).scalar() is not None


def test_without_mail_server_each_due_mail_is_logged_once(app, caplog):
    from forum.notifications import mail

    with app.test_request_context():
        queued = [mail.queue(f"m{n}@exemple.org", f"Sujet {n}", "notification") for n in range(3)]
        queued[0].sent_at = utcnow()  # sent already
        queued[1].attempts = mail.MAX_ATTEMPTS  # given up
        db.session.commit()
        with caplog.at_level(logging.INFO, logger="forum"):
            assert mail.deliver() == (1, 0)
            assert mail.deliver() == (0, 0)
    logged = [r.getMessage() for r in caplog.records if "no FORUM_MAIL_SERVER" in r.getMessage()]
    assert len(logged) == 1 and "m2@exemple.org: Sujet 2" in logged[0]


def test_digest_reminds_of_a_seminar_starting_tomorrow(mail_app, smtp_server):
    from datetime import timedelta

    from forum.db import utcnow
    from forum.seminars.models import Registration, Seminar
    from tests.seminars.test_seminars import make_seminar

    organiser = make_user(mail_app, "orga", role="admin")
    alice = make_user(mail_app, "alice")
    soon = make_seminar(mail_app, organiser, title="Les Rencontres de demain")
    later = make_seminar(mail_app, organiser, title="Un séminaire lointain")
    with mail_app.app_context():
        seminar = db.session.get(Seminar, soon)
        seminar.starts_at = utcnow() + timedelta(hours=20)
        seminar.ends_at = seminar.starts_at + timedelta(hours=3)
        for seminar_id in (soon, later):
            db.session.add(
                Registration(seminar_id=seminar_id, user_id=alice.id, status="confirmed")
            )
        db.session.commit()
    mail_app.test_cli_runner().invoke(args=["forum", "send-digests"])
    [digest] = smtp_server.inbox.to("alice@exemple.org")
    text = text_part(digest)
    assert "Les Rencontres de demain" in text
    assert "Un séminaire lointain" not in text
    assert smtp_server.inbox.to("orga@exemple.org") == []
