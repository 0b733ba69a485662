"""The directory's services: organisations, members, offers, contact requests, mediation."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update
from werkzeug.exceptions import Forbidden

from forum.accounts.models import User
from forum.db import utcnow
from forum.directory import contacts, services
from forum.directory.models import (
    ContactRequest,
    Membership,
    Offer,
    Organisation,
)
from forum.extensions import db
from forum.moderation.models import LogEntry
from forum.notifications.models import Notification, OutboxMail
from forum.refusals import Refused
from forum.search.models import SearchEntry
from tests.directory.factories import add_member, make_offer, make_organisation
from tests.factories import make_user


def _get(model, obj):
    return db.session.get(model, getattr(obj, "id", obj))


def test_creator_becomes_representative_and_slugs_are_stable(app):
    alice = make_user(app, "alice")
    org = make_organisation(app, alice, "Régie de quartier du Franc-Moisin", kind="regie_quartier")
    twin = make_organisation(app, alice, "Régie de quartier du Franc-Moisin")
    assert org.slug == "regie-de-quartier-du-franc-moisin"
    assert twin.slug == "regie-de-quartier-du-franc-moisin-2"
    with app.app_context():
        row = _get(Organisation, org)
        services.update_organisation(
            _get(User, alice),
            row,
            name="Régie de quartier Franc-Moisin / Bel-Air",
            family="ess",
            kind="regie_quartier",
            region="11",
            departement="93",
            commune="Saint-Denis",
            description="Nous **embauchons** des habitant·es.",
            website="https://regie.example.org",
        )
        row = _get(Organisation, org)
        assert row.slug == org.slug  # renamed, same address
        assert row.description_html == "<p>Nous <strong>embauchons</strong> des habitant·es.</p>\n"
        members = db.session.execute(select(Membership)).scalars().all()
        assert {(m.organisation_id, m.role) for m in members} == {
            (org.id, "representative"),
            (twin.id, "representative"),
        }
        indexed = db.session.execute(
            select(SearchEntry.title).where(SearchEntry.kind == "org")
        ).scalars()
        assert "franc moisin bel air" in " ".join(indexed)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"family": "citoyen"}, "famille"),
        ({"kind": "banque"}, "type d'organisation"),
        ({"region": "99"}, "région de la liste"),
        ({"departement": "75"}, "n'est pas dans la région"),
        ({"name": "AB"}, "entre 3 et 150"),
        ({"website": "javascript:alert(1)"}, "http"),
        ({"name": "Nul\x00"}, "caractère nul"),
    ],
)
def test_bad_organisations_are_refused_with_a_message(app, changes, message):
    alice = make_user(app, "alice")
    fields = {
        "name": "Mutuelle des Lilas",
        "family": "ess",
        "kind": "mutuelle_sante",
        "region": "93",
        "departement": "13",
        "commune": "",
        "description": "",
        "website": "",
    }
    fields.update(changes)
    with app.app_context(), pytest.raises(Refused, match=message):
        services.create_organisation(_get(User, alice), **fields)
    with app.app_context():
        assert db.session.execute(select(func.count(Organisation.id))).scalar_one() == 0


def test_join_accept_decline_hand_on_and_always_one_representative(app):
    alice, bob, carol = (make_user(app, n) for n in ("alice", "bob", "carol"))
    org = make_organisation(
        app, alice, "Union locale CGT de Saint-Denis", family="syndical", kind="union_locale"
    )
    with app.app_context():
        row = _get(Organisation, org)
        services.request_join(_get(User, bob), row, "Je suis trésorier.")
        services.request_join(_get(User, carol), row)
        with pytest.raises(Forbidden):  # already asked
            services.request_join(_get(User, bob), _get(Organisation, org))
        with pytest.raises(Forbidden):  # bob is not a representative
            services.answer_join(_get(User, bob), _get(Organisation, org), carol.id, True)
        services.answer_join(_get(User, alice), _get(Organisation, org), bob.id, True)
        services.answer_join(_get(User, alice), _get(Organisation, org), carol.id, False)
        roles = dict(db.session.execute(select(Membership.user_id, Membership.role)).all())
        assert roles == {alice.id: "representative", bob.id: "member"}
        assert _get(Organisation, org).member_count == 2
        with pytest.raises(Refused, match="au moins un·e représentant·e"):
            services.leave(_get(User, alice), _get(Organisation, org))
        services.hand_on(_get(User, alice), _get(Organisation, org), bob.id)
        roles = dict(db.session.execute(select(Membership.user_id, Membership.role)).all())
        assert roles == {alice.id: "member", bob.id: "representative"}
        with pytest.raises(Refused, match="au moins un·e représentant·e"):
            services.set_member_role(_get(User, bob), _get(Organisation, org), bob.id, "member")
        services.leave(_get(User, alice), _get(Organisation, org))
        assert _get(Organisation, org).member_count == 1


def test_moderators_verify_and_merge_in_the_log(app):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    modo = make_user(app, "modo", role="moderator")
    keep = make_organisation(app, alice, "SCIC Énergies citoyennes", kind="scic")
    dup = make_organisation(app, bob, "SCIC Energies Citoyennes", kind="scic")
    add_member(app, dup, alice)
    offer = make_offer(app, bob, dup, "Toitures solaires pour les écoles")
    with app.app_context():
        with pytest.raises(Forbidden):
            services.verify(_get(User, alice), _get(Organisation, keep))
        services.verify(_get(User, modo), _get(Organisation, keep))
        services.merge(
            _get(User, modo), _get(Organisation, dup), _get(Organisation, keep), "doublon"
        )
        kept, merged = _get(Organisation, keep), _get(Organisation, dup)
        assert kept.is_verified and merged.merged_into_id == kept.id
        roles = dict(
            db.session.execute(
                select(Membership.user_id, Membership.role).where(
                    Membership.organisation_id == kept.id
                )
            ).all()
        )
        # alice was representative of the kept one and member of the duplicate: she stays
        # representative; bob, representative of the duplicate, keeps his role.
        assert roles == {alice.id: "representative", bob.id: "representative"}
        assert kept.member_count == 2
        assert _get(Offer, offer).organisation_id == kept.id
        actions = db.session.execute(select(LogEntry.action, LogEntry.actor_id)).all()
        assert sorted(actions) == [
            ("organisation:merge", modo.id),
            ("organisation:verify", modo.id),
        ]
        with pytest.raises(Forbidden):  # a merged organisation cannot be merged again
            services.merge(_get(User, modo), _get(Organisation, dup), _get(Organisation, keep))


def test_offers_edit_close_and_expire(app, client):
    alice = make_user(app, "alice")
    org = make_organisation(app, alice, "Mutuelle des Lilas", kind="mutuelle_sante")
    offer = make_offer(app, alice, org, "Ateliers prévention santé", category="sante")
    short = make_offer(app, alice, org, "Salle de réunion le mardi", category="lieu", days=0)
    with app.app_context():
        row = _get(Offer, offer)
        services.update_offer(
            _get(User, alice),
            row,
            title="Ateliers prévention santé au travail",
            body="Pour les CSE.",
            category="sante",
            theme="services-publics",
            scope="regional",
            expires_at=utcnow().date() + timedelta(days=30),
        )
        assert _get(Offer, offer).theme.slug == "services-publics"
        with pytest.raises(Refused, match="déjà passée"):
            services.update_offer(
                _get(User, alice),
                _get(Offer, offer),
                title="Ateliers",
                body="x",
                category="sante",
                theme="",
                scope="local",
                expires_at=utcnow().date() - timedelta(days=1),
            )
        # The short one expires: no longer listed, still reachable.
        db.session.execute(
            update(Offer)
            .where(Offer.id == short.id)
            .values(expires_at=utcnow().date() - timedelta(days=1))
        )
        db.session.commit()
    listing = client.get("/offers/").get_data(as_text=True)
    assert "Ateliers prévention santé au travail" in listing
    assert "Salle de réunion le mardi" not in listing
    page = client.get(f"/offers/{short.id}")
    assert page.status_code == 200 and "expirée" in page.get_data(as_text=True)
    with app.app_context():
        services.close_offer(_get(User, alice), _get(Offer, offer), "pourvue")
        with pytest.raises(Forbidden):  # closed: no more edits
            services.close_offer(_get(User, alice), _get(Offer, offer), "retiree")
    assert "Ateliers prévention" not in client.get("/offers/").get_data(as_text=True)
    assert "pourvue" in client.get(f"/offers/{offer.id}").get_data(as_text=True)


def _pair(app):
    """A CSE (alice) with a need; a cooperative (bob) with an offer; carol, bob's colleague."""
    alice, bob, carol = (make_user(app, n) for n in ("alice", "bob", "carol"))
    cse = make_organisation(app, alice, "CSE RATP Bus Pleyel", family="syndical", kind="cse")
    coop = make_organisation(
        app, bob, "Coopérative Vacances pour tous", kind="cooperative", departement="75"
    )
    add_member(app, coop, carol, "representative")
    need = make_offer(
        app, alice, cse, "Séjours de vacances solidaires", kind="need", category="vacances"
    )
    offer = make_offer(
        app, bob, coop, "Séjours en villages vacances", category="vacances", scope="national"
    )
    return SimpleNamespace(
        alice=alice, bob=bob, carol=carol, cse=cse, coop=coop, need=need, offer=offer
    )


def test_contact_request_accept_decline_cooldown_and_pace(app):
    w = _pair(app)
    with app.app_context():
        request = contacts.request_contact(
            _get(User, w.alice),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=_get(Offer, w.offer),
        )
        assert (request.from_organisation_id, request.to_organisation_id) == (w.cse.id, w.coop.id)
        told = db.session.execute(
            select(Notification.user_id, Notification.event).where(
                Notification.event == "contact_new"
            )
        ).all()
        assert sorted(told) == [(w.bob.id, "contact_new"), (w.carol.id, "contact_new")]
        with pytest.raises(Refused, match="attend déjà"):
            contacts.request_contact(
                _get(User, w.alice), _get(Organisation, w.coop), "Une deuxième demande, pareille."
            )
        contacts.decline(_get(User, w.bob), _get(ContactRequest, request), "Complet cette année.")
        with pytest.raises(Refused, match="décliné"):
            contacts.request_contact(
                _get(User, w.alice), _get(Organisation, w.coop), "Et maintenant, c'est possible ?"
            )
        # 91 days later, she may ask again.
        db.session.execute(update(ContactRequest).values(answered_at=utcnow() - timedelta(days=91)))
        db.session.commit()
        again = contacts.request_contact(
            _get(User, w.alice), _get(Organisation, w.coop), "Pour l'été prochain, alors ?"
        )
        contacts.accept(_get(User, w.carol), _get(ContactRequest, again), "Avec plaisir.")
        assert _get(ContactRequest, again).status == "accepted"
        events = (
            db.session.execute(select(Notification.event).where(Notification.user_id == w.alice.id))
            .scalars()
            .all()
        )
        assert "contact_declined" in events and "contact_accepted" in events
        with pytest.raises(Forbidden):  # already answered
            contacts.decline(_get(User, w.bob), _get(ContactRequest, again))


def test_new_accounts_are_paced(app):
    alice = make_user(app, "alice")
    mine = make_organisation(
        app, alice, "Association des habitant·es", kind="association_habitants"
    )
    targets = [make_organisation(app, make_user(app), f"Cible numéro {n}") for n in range(4)]
    with app.app_context():
        for target in targets[:3]:
            contacts.request_contact(
                _get(User, alice), _get(Organisation, target), "Bonjour, parlons-en."
            )
        with pytest.raises(Refused, match="demain"):
            contacts.request_contact(
                _get(User, alice), _get(Organisation, targets[3]), "Bonjour, parlons-en."
            )
        # An older account may send more.
        db.session.execute(update(User).values(created_at=utcnow() - timedelta(days=30)))
        db.session.commit()
        contacts.request_contact(
            _get(User, alice), _get(Organisation, targets[3]), "Bonjour, parlons-en."
        )
    assert mine.id


def test_requests_expire_after_thirty_days_and_the_requester_is_told(app, runner):
    w = _pair(app)
    with app.app_context():
        old = contacts.request_contact(
            _get(User, w.alice), _get(Organisation, w.coop), "Une ancienne demande."
        )
        old_id = old.id
        db.session.execute(update(ContactRequest).values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        with pytest.raises(Forbidden):  # too late to answer, even before the command runs
            contacts.accept(_get(User, w.bob), _get(ContactRequest, old_id))
        db.session.rollback()
    result = runner.invoke(args=["forum", "expire-contacts"])
    assert "1 demande(s)" in result.output
    with app.app_context():
        assert _get(ContactRequest, old_id).status == "expired"
        assert db.session.execute(
            select(Notification.event)
            .where(Notification.user_id == w.alice.id)
            .order_by(Notification.id)
        ).scalars().all() == ["match", "contact_expired"]
    assert "0 demande(s)" in runner.invoke(args=["forum", "expire-contacts"]).output


def test_mediation_taken_closed_counted_and_reported(app, runner):
    w = _pair(app)
    modo = make_user(app, "modo", role="moderator")
    plain = make_user(app, "plain")
    assert "est maintenant" in runner.invoke(args=["forum", "set-mediator", "modo"]).output
    refused = runner.invoke(args=["forum", "set-mediator", "plain"])
    assert refused.exit_code != 0 and "modérateur" in refused.output
    with app.app_context():
        request = contacts.request_contact(
            _get(User, w.alice),
            None,
            "Nous voudrions être accompagné·es.",
            offer=_get(Offer, w.offer),
            mediation=True,
        )
        with pytest.raises(Forbidden):
            contacts.take(_get(User, plain), _get(ContactRequest, request))
        contacts.take(_get(User, modo), _get(ContactRequest, request))
        with pytest.raises(Refused, match="issue"):
            contacts.close(_get(User, modo), _get(ContactRequest, request), "victoire", "Bien.")
        contacts.close(
            _get(User, modo), _get(ContactRequest, request), "accord", "Une convention est signée."
        )
        closed = _get(ContactRequest, request)
        assert (closed.outcome, closed.mediator_id) == ("accord", modo.id)
        report = contacts.report()
        assert report.totals["requests"] == 1 and report.totals["mediated"] == 1
        assert report.totals["accord"] == 1
        assert list(report.by_pair) == ["Mouvement syndical → Économie sociale et solidaire"]
        actions = db.session.execute(select(LogEntry.action)).scalars().all()
        assert {"contact:take", "contact:close", "mediator:set"} <= set(actions)
        mails = db.session.execute(select(func.count(OutboxMail.id))).scalar_one()
        assert mails > 0
    assert "n'est plus" in runner.invoke(args=["forum", "set-mediator", "modo", "--off"]).output


def test_following_a_need_tells_of_new_matching_offers(app):
    w = _pair(app)
    with app.app_context():
        # w.alice follows her w.need from its publication; the w.offer above already matched.
        assert db.session.execute(
            select(Notification.offer_id).where(Notification.user_id == w.alice.id)
        ).scalars().all() == [w.offer.id]
    far = make_organisation(app, w.bob, "Coopérative lointaine", region="53", departement="29")
    make_offer(app, w.bob, far, "Formation comptable", category="formation")  # shares nothing
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count(Notification.id)).where(Notification.user_id == w.alice.id)
            ).scalar_one()
            == 1
        )
        services.follow_offer(_get(User, w.alice), _get(Offer, w.need), follow=False)
    make_offer(app, w.bob, w.coop, "Colonies de vacances", category="vacances", scope="national")
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count(Notification.id)).where(Notification.user_id == w.alice.id)
            ).scalar_one()
            == 1
        )


def test_acceptance_opens_a_conversation_a_mediator_joins(app):
    """Accepted: the requester and the asked organisation's representatives converse
    privately, titled after the offer; a mediator who takes it joins and reads it all."""
    from forum.messages.models import Conversation, Message, Participant

    w = _pair(app)
    modo = make_user(app, "modo", role="moderator")
    with app.app_context():
        contacts.set_mediator(None, _get(User, modo))
        request = contacts.request_contact(
            _get(User, w.alice),
            None,
            "Bonjour, vos séjours nous intéressent.",
            offer=_get(Offer, w.offer),
        )
        contacts.accept(_get(User, w.carol), _get(ContactRequest, request), "Avec plaisir.")
        accepted = _get(ContactRequest, request)
        conversation = _get(Conversation, accepted.conversation_id)
        assert conversation.origin == f"contact:{accepted.id}"
        people = set(
            db.session.execute(
                select(Participant.user_id).where(Participant.conversation_id == conversation.id)
            ).scalars()
        )
        assert people == {w.alice.id, w.bob.id, w.carol.id}
        first = (
            db.session.execute(
                select(Message.body_source).where(Message.conversation_id == conversation.id)
            )
            .scalars()
            .first()
        )
        assert "vos séjours nous intéressent" in first and "Avec plaisir." in first

        contacts.ask_mediation(_get(User, w.alice), _get(ContactRequest, request))
        contacts.take(_get(User, modo), _get(ContactRequest, request))
        joined = db.session.execute(
            select(Participant).where(
                Participant.conversation_id == conversation.id, Participant.user_id == modo.id
            )
        ).scalar_one()
        assert joined.left_at is None and joined.visible_from is None
