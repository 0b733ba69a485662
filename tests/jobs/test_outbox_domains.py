"""The directory's notices, reactions' notices and private messages go through the outbox.

For each, the job that notifies is written in the transaction of the change: a change
whose commit fails leaves no job, no notification and no mail; a committed one is told
once, by the request right after its commit or, should the request die first, by the
worker after the lease; and each mail reaches a real SMTP server exactly once.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.debate import services as debate
from forum.directory import contacts
from forum.directory.models import ContactRequest, Offer
from forum.directory.notify import MATCHES_JOB
from forum.discussions.models import Post
from forum.extensions import db
from forum.jobs import services as jobs
from forum.jobs.models import Job
from forum.messages import services as messages
from forum.messages.models import Conversation, Message
from forum.notifications.fanout import DIRECTORY_JOB, REACTION_JOB
from forum.notifications.messages import MESSAGE_JOB
from forum.notifications.models import Notification, OutboxMail
from forum.notifications.preferences import set_preferences
from tests.directory.factories import add_member, make_offer, make_organisation
from tests.factories import make_reply, make_thread, make_user
from tests.jobs.outbox import after_lease, counts, jobs_left
from tests.notifications.conftest import text_part


@contextmanager
def _commit_fails(monkeypatch):
    """The change's commit fails (the database refuses it): it is rolled back, and raises.

    Yields the kinds of the jobs its transaction held when it tried to commit.
    """
    held: list[str] = []

    def commit():
        held.extend(db.session.execute(select(Job.kind)).scalars())
        db.session.rollback()
        raise RuntimeError("la base a refusé la validation")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", commit)
        with pytest.raises(RuntimeError):
            yield held


@contextmanager
def _request_dies(monkeypatch):
    """The process dies between the change's commit and its notices."""
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "run_now", lambda *args, **kwargs: False)
        yield


def _worker_runs_it_once(app, kind: str) -> None:
    """Not before the lease; after it, two workers' turns: the job runs once."""
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count(Job.id)).where(Job.kind == kind, Job.done_at.is_(None))
            ).scalar()
            == 1
        )
        assert jobs.run_pending()["jobs"] == 0  # the request's lease still runs
        assert jobs.run_pending(after_lease(app))["jobs"] == 1
        assert jobs.run_pending(after_lease(app) + timedelta(hours=1))["jobs"] == 0
        unsent = db.session.execute(
            select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))
        ).scalar()
        assert unsent == 0
        db.session.remove()


def _once_each(smtp_server) -> None:
    assert max(Counter(m["Message-ID"] for m in smtp_server.inbox._messages).values()) == 1


# -- the directory ----------------------------------------------------------------------------


def _pair(app):
    """A CSE (alice) with a need; a cooperative (bob, carol) with an offer alice follows."""
    alice, bob, carol = (make_user(app, n) for n in ("alice", "bob", "carol"))
    cse = make_organisation(app, alice, "CSE RATP Bus Pleyel", family="syndical", kind="cse")
    coop = make_organisation(
        app, bob, "Coopérative Vacances pour tous", kind="cooperative", departement="75"
    )
    add_member(app, coop, carol, "representative")
    make_offer(app, alice, cse, "Séjours de vacances solidaires", kind="need", category="vacances")
    offer = make_offer(
        app, bob, coop, "Séjours en villages vacances", category="vacances", scope="national"
    )
    return alice, bob, carol, offer


def test_a_contact_request_whose_commit_fails_leaves_no_job_no_notification_no_mail(
    app, monkeypatch
):
    alice, _bob, _carol, offer = _pair(app)
    before = counts(app, DIRECTORY_JOB)
    with app.test_request_context(), _commit_fails(monkeypatch) as held:
        contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=db.session.get(Offer, offer.id),
        )
    assert DIRECTORY_JOB in held  # written in the request's transaction …
    assert counts(app, DIRECTORY_JOB) == before  # … and gone with it
    with app.app_context():
        assert db.session.execute(select(func.count(ContactRequest.id))).scalar() == 0


def test_an_acceptance_whose_commit_fails_opens_no_conversation_and_tells_nobody(app, monkeypatch):
    """The acceptance, its conversation and the jobs telling of both are one transaction."""
    alice, bob, _carol, offer = _pair(app)
    with app.test_request_context():
        request = contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=db.session.get(Offer, offer.id),
        )
        request_id = request.id
    before = counts(app, DIRECTORY_JOB)
    with app.test_request_context(), _commit_fails(monkeypatch) as held:
        contacts.accept(
            db.session.get(User, bob.id),
            db.session.get(ContactRequest, request_id),
            "Avec plaisir.",
        )
    assert held.count(DIRECTORY_JOB) == 2 and held.count(MESSAGE_JOB) == 1
    assert counts(app, DIRECTORY_JOB) == before
    with app.app_context():
        assert db.session.execute(select(func.count(Conversation.id))).scalar() == 0
        assert db.session.get(ContactRequest, request_id).status == "pending"


def test_a_contact_request_and_a_new_match_are_told_by_the_request(mail_app, smtp_server):
    alice, bob, carol, offer = _pair(mail_app)
    with mail_app.app_context():
        # The offer's matching job ran right after its commit: alice follows her need.
        matched = db.session.execute(
            select(Job).where(Job.kind == MATCHES_JOB).order_by(Job.id.desc()).limit(1)
        ).scalar_one()
        assert matched.done_at is not None and matched.attempts == 0
        assert matched.payload == {"offer_id": offer.id}
    with mail_app.test_request_context():
        request = contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=db.session.get(Offer, offer.id),
        )
        job = db.session.execute(select(Job).where(Job.kind == DIRECTORY_JOB)).scalar_one()
        assert job.done_at is not None and job.attempts == 0  # done by the request
        assert job.payload["user_ids"] == sorted([bob.id, carol.id])
        assert job.payload["contact_request_id"] == request.id
        told = db.session.execute(
            select(Notification.user_id).where(Notification.event == "contact_new")
        ).scalars()
        assert sorted(told) == sorted([bob.id, carol.id])
        assert jobs.run_pending(after_lease(mail_app))["jobs"] == 0  # nothing left
    subject = "Nouvelle demande de mise en relation : « Séjours en villages vacances »"
    for name in ("bob", "carol"):
        assert [m["Subject"] for m in smtp_server.inbox.to(f"{name}@exemple.org")] == [subject]
    [match] = smtp_server.inbox.to("alice@exemple.org")
    assert match["Subject"] == "Nouvelle correspondance : « Séjours en villages vacances »"
    _once_each(smtp_server)


def test_directory_mails_name_the_event_in_each_recipients_language(mail_app, smtp_server):
    """carol reads English: her mail names the request in English, bob's in French; the
    offer's title and the request's subject stay as their authors wrote them."""
    alice, _bob, carol, offer = _pair(mail_app)
    with mail_app.app_context():
        db.session.get(User, carol.id).locale = "en"
        db.session.commit()
    with mail_app.test_request_context():
        contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=db.session.get(Offer, offer.id),
        )
    [to_bob] = smtp_server.inbox.to("bob@exemple.org")
    [to_carol] = smtp_server.inbox.to("carol@exemple.org")
    assert to_bob["Subject"] == (
        "Nouvelle demande de mise en relation : « Séjours en villages vacances »"
    )
    assert to_carol["Subject"] == "New contact request: “Séjours en villages vacances”"
    assert "New contact request: “Séjours en villages vacances”" in text_part(to_carol)
    _once_each(smtp_server)


def test_a_directory_job_written_with_its_whole_line_is_mailed_as_it_is(mail_app, smtp_server):
    """A job queued before the line was named in each language holds it in French
    (``headline``): the worker still mails it, once."""
    _alice, bob, _carol, _offer = _pair(mail_app)
    line = "Médiation close : « Séjours en villages vacances »"
    with mail_app.app_context():
        jobs.enqueue(
            DIRECTORY_JOB,
            {
                "user_ids": [bob.id],
                "event": "mediation_closed",
                "headline": line,
                "url": "http://forum.exemple.org/contacts/1",
                "offer_id": None,
                "contact_request_id": None,
            },
        )
        db.session.commit()
    [message] = smtp_server.inbox.to("bob@exemple.org")
    assert message["Subject"] == line
    _once_each(smtp_server)


def test_a_declined_request_whose_request_died_is_told_by_the_worker_exactly_once(
    mail_app, smtp_server, monkeypatch
):
    alice, bob, _carol, offer = _pair(mail_app)
    with mail_app.test_request_context():
        request = contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=db.session.get(Offer, offer.id),
        )
        request_id = request.id
    smtp_server.inbox.worker_app = None  # read the mailbox as it is: the worker runs below
    with mail_app.app_context():
        jobs.run_pending()  # the mails written so far
    _jobs, notified, queued = counts(mail_app, DIRECTORY_JOB)

    with mail_app.test_request_context(), _request_dies(monkeypatch):
        contacts.decline(
            db.session.get(User, bob.id),
            db.session.get(ContactRequest, request_id),
            "Complet cette année.",
        )
    assert counts(mail_app, DIRECTORY_JOB) == (2, notified, queued)  # the job, alone

    _worker_runs_it_once(mail_app, DIRECTORY_JOB)
    with mail_app.app_context():
        [row] = db.session.execute(
            select(Notification).where(Notification.event == "contact_declined")
        ).scalars()
        assert (row.user_id, row.contact_request_id) == (alice.id, request_id)
    mails = [
        m["Subject"]
        for m in smtp_server.inbox.to("alice@exemple.org")
        if "déclinée" in m["Subject"]
    ]
    assert mails == ["Mise en relation déclinée : « Séjours en villages vacances »"]
    _once_each(smtp_server)


# -- reactions ---------------------------------------------------------------------------------


def _reacted_post(app):
    """A reply by autrice (reactions mailed at once), and two readers."""
    autrice, lectrice, voisin = (make_user(app, n) for n in ("autrice", "lectrice", "voisin"))
    thread = make_thread(app, lectrice, title="Le marché du samedi")
    post = make_reply(app, autrice, thread, body="Un message qui fait réagir.")
    with app.app_context():
        set_preferences(db.session.get(User, autrice.id), {"reaction": "immediately"})
    return autrice, lectrice, voisin, post


def test_a_reaction_whose_commit_fails_leaves_no_job_no_notification(app, monkeypatch):
    _autrice, lectrice, _voisin, post = _reacted_post(app)
    before = counts(app, REACTION_JOB)
    with app.test_request_context(), _commit_fails(monkeypatch) as held:
        debate.toggle_reaction(
            db.session.get(User, lectrice.id), db.session.get(Post, post.id), "merci"
        )
    assert held.count(REACTION_JOB) == 1
    assert counts(app, REACTION_JOB) == before and before[0] == 0


def test_a_reaction_is_told_by_the_request_and_the_hour_keeps_its_rule(mail_app, smtp_server):
    _autrice, lectrice, voisin, post = _reacted_post(mail_app)
    with mail_app.test_request_context():
        debate.toggle_reaction(
            db.session.get(User, lectrice.id), db.session.get(Post, post.id), "merci"
        )
        job = db.session.execute(select(Job).where(Job.kind == REACTION_JOB)).scalar_one()
        assert job.done_at is not None and job.attempts == 0
        assert job.payload == {"post_id": post.id, "actor_id": lectrice.id}
        # Within the hour, another reaction writes no job and rings no bell.
        debate.toggle_reaction(
            db.session.get(User, voisin.id), db.session.get(Post, post.id), "d_accord"
        )
    assert counts(mail_app, REACTION_JOB)[0] == 1
    with mail_app.app_context():
        told = db.session.execute(
            select(Notification.actor_id).where(Notification.kind == "reaction")
        ).scalars()
        assert list(told) == [lectrice.id]
    [message] = smtp_server.inbox.to("autrice@exemple.org")
    assert message["Subject"] == "lectrice a réagi à votre message dans « Le marché du samedi »"
    _once_each(smtp_server)


def test_reactions_whose_requests_died_are_told_by_the_worker_once_an_hour(
    mail_app, smtp_server, monkeypatch
):
    _autrice, lectrice, voisin, post = _reacted_post(mail_app)
    smtp_server.inbox.worker_app = None
    with mail_app.app_context():
        jobs.run_pending()
    with _request_dies(monkeypatch):
        for reader, kind in ((lectrice, "merci"), (voisin, "bien_vu")):
            with mail_app.test_request_context():
                debate.toggle_reaction(
                    db.session.get(User, reader.id), db.session.get(Post, post.id), kind
                )
    with mail_app.app_context():
        # Both jobs wait (neither request told anyone); the worker tells the author once.
        assert jobs.run_pending()["jobs"] == 0
        waiting = jobs_left()
        # The worker's turns until nothing is left (in a full run, one turn once took
        # only the first of the two due jobs; the second came at the next turn).
        turns = [jobs.run_pending(after_lease(mail_app))["jobs"] for _turn in range(3)]
        if sum(turns) != 2 or turns[-1] != 0:
            pytest.fail(
                f"the worker's turns ran {turns} jobs, not 2; they waited so:\n{waiting}\n"
                f"and were left so:\n{jobs_left()}"
            )
        assert jobs.run_pending(after_lease(mail_app) + timedelta(hours=1))["jobs"] == 0
        told = db.session.execute(
            select(Notification.actor_id).where(Notification.kind == "reaction")
        ).scalars()
        assert list(told) == [lectrice.id]
    [message] = smtp_server.inbox.to("autrice@exemple.org")
    assert message["Subject"] == "lectrice a réagi à votre message dans « Le marché du samedi »"
    _once_each(smtp_server)


# -- private conversations ----------------------------------------------------------------------


def _conversation(app):
    """alice opened a conversation with bob and carol (both told of it); then carol muted it."""
    names = ("alice", "bob", "carol")
    alice, bob, carol = (make_user(app, name) for name in names)
    with app.test_request_context():
        conversation = messages.start_conversation(
            db.session.get(User, alice.id),
            [db.session.get(User, bob.id), db.session.get(User, carol.id)],
            "Covoiturage pour la manifestation",
            "Qui part de Montreuil ?",
        )
        messages.set_muted(conversation, db.session.get(User, carol.id), True)
        conversation_id = conversation.id
    return alice, bob, carol, conversation_id


def test_a_message_whose_commit_fails_leaves_no_job_no_notification_no_mail(app, monkeypatch):
    _alice, bob, _carol, conversation_id = _conversation(app)
    before = counts(app, MESSAGE_JOB)
    with app.test_request_context(), _commit_fails(monkeypatch) as held:
        messages.post_message(
            db.session.get(Conversation, conversation_id),
            db.session.get(User, bob.id),
            "Moi, avec deux places.",
        )
    assert held.count(MESSAGE_JOB) == 2  # the first message's, done; this one's
    assert counts(app, MESSAGE_JOB) == before
    with app.app_context():
        assert db.session.execute(select(func.count(Message.id))).scalar() == 1


def test_a_message_is_told_by_the_request(mail_app, smtp_server):
    alice, bob, _carol, conversation_id = _conversation(mail_app)
    with mail_app.test_request_context():
        message = messages.post_message(
            db.session.get(Conversation, conversation_id),
            db.session.get(User, bob.id),
            "Moi, avec deux places.",
        )
        job = db.session.execute(
            select(Job).where(Job.kind == MESSAGE_JOB).order_by(Job.id.desc()).limit(1)
        ).scalar_one()
        assert job.done_at is not None and job.attempts == 0
        assert job.payload == {"message_id": message.id, "only": None}
        told = db.session.execute(
            select(Notification.user_id).where(
                Notification.kind == "message", Notification.actor_id == bob.id
            )
        ).scalars()
        assert list(told) == [alice.id]  # carol muted the conversation
    subjects = [m["Subject"] for m in smtp_server.inbox.to("alice@exemple.org")]
    assert subjects == ["bob vous a écrit : « Covoiturage pour la manifestation »"]
    assert len(smtp_server.inbox.to("carol@exemple.org")) == 1  # the first message only
    _once_each(smtp_server)


def test_a_message_whose_request_died_is_mailed_by_the_worker_exactly_once(
    mail_app, smtp_server, monkeypatch
):
    alice, _bob, _carol, conversation_id = _conversation(mail_app)
    smtp_server.inbox.worker_app = None
    with mail_app.app_context():
        jobs.run_pending()  # bob's mail of the first message
    _jobs, notified, queued = counts(mail_app, MESSAGE_JOB)
    with mail_app.test_request_context(), _request_dies(monkeypatch):
        messages.post_message(
            db.session.get(Conversation, conversation_id),
            db.session.get(User, alice.id),
            "Départ 8 h, place de la Mairie.",
        )
    assert counts(mail_app, MESSAGE_JOB) == (2, notified, queued)  # the job, alone

    _worker_runs_it_once(mail_app, MESSAGE_JOB)
    subjects = [m["Subject"] for m in smtp_server.inbox.to("bob@exemple.org")]
    assert subjects == ["alice vous a écrit : « Covoiturage pour la manifestation »"] * 2
    texts = [m.get_body(("plain",)).get_content() for m in smtp_server.inbox.to("bob@exemple.org")]
    assert "Départ 8 h, place de la Mairie." in texts[1]
    assert len(smtp_server.inbox.to("carol@exemple.org")) == 1  # muted since the first
    _once_each(smtp_server)
