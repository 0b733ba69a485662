"""The directory's pages, as people use them: forms, filters, search, the whole story."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.db import utcnow
from forum.directory.models import ContactRequest, Offer
from forum.extensions import db
from tests.directory.factories import add_member, make_offer, make_organisation
from tests.factories import make_user

ORG_FIELDS = {
    "name": "CSE RATP Bus Pleyel",
    "family": "syndical",
    "kind": "cse",
    "region": "11",
    "departement": "93",
    "commune": "Saint-Denis",
    "description": "Le comité social et économique du **dépôt de Pleyel**.",
    "website": "https://cse-pleyel.example.org",
}


def _offer_fields(**changes) -> dict:
    fields = {
        "kind": "need",
        "title": "Séjours de vacances solidaires pour les familles des salarié·es",
        "body": "Nous cherchons des séjours pour **120 familles** cet été.",
        "category": "vacances",
        "theme": "developpement-local",
        "scope": "regional",
        "expires_at": (utcnow().date() + timedelta(days=90)).isoformat(),
    }
    fields.update(changes)
    return fields


def test_the_story_of_a_cse_need_matched_asked_accepted_and_mediated(app, client, auth, runner):
    """The issue's "done when", as a new user would try it."""
    make_user(app, "leila")  # representative of the CSE
    bob = make_user(app, "bob")  # the cooperative of social tourism, Paris
    far = make_user(app, "yann")  # a cooperative in Brittany
    make_user(app, "modo", role="moderator")
    make_user(app, "admin", role="admin")
    coop = make_organisation(
        app, bob, "Vacances et Familles Coop", kind="cooperative", departement="75"
    )
    breton = make_organisation(
        app, far, "Coop des gîtes bretons", kind="cooperative", region="53", departement="29"
    )
    near = make_offer(
        app, bob, coop, "Séjours en villages vacances", category="vacances", scope="national"
    )
    distant = make_offer(app, far, breton, "Gîtes en Finistère", category="vacances")
    runner.invoke(args=["forum", "set-mediator", "modo"])

    auth.login("leila")
    response = client.post_form("/organisations/new", ORG_FIELDS)
    assert (
        response.status_code == 302
        and response.headers["Location"] == "/organisations/cse-ratp-bus-pleyel"
    )
    page = client.get("/organisations/cse-ratp-bus-pleyel").get_data(as_text=True)
    assert "<strong>dépôt de Pleyel</strong>" in page and "représentant·e" in page
    assert "@exemple.org" not in page  # no e-mail address, ever
    response = client.post_form("/organisations/cse-ratp-bus-pleyel/offers/new", _offer_fields())
    assert response.status_code == 302
    need_id = int(re.search(r"/offers/(\d+)/matches", response.headers["Location"]).group(1))
    matches = client.get(f"/offers/{need_id}/matches").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'id="match-(\d+)"', matches)]
    assert ids == [near.id, distant.id]  # same région first
    assert (
        "même région · même catégorie · organisations complémentaires · offre nationale" in matches
    )

    response = client.post_form(
        f"/offers/{near.id}/contact",
        {"message": "Bonjour, vos séjours nous intéressent pour cet été.", "mediation": "0"},
    )
    assert response.status_code == 302
    contact_url = response.headers["Location"]
    auth.logout()

    auth.login("bob")
    page = client.get(contact_url).get_data(as_text=True)
    assert "Accepter" in page and "vos séjours nous intéressent" in page
    assert client.post_form(contact_url + "/accept", {"message": "Avec joie !"}).status_code == 302
    assert "acceptée" in client.get(contact_url).get_data(as_text=True)
    # A second request, with mediation, from the cooperative to the CSE.
    response = client.post_form(
        "/organisations/cse-ratp-bus-pleyel/contact",
        {"message": "Nous aimerions aussi parler de vos besoins en santé.", "mediation": "1"},
    )
    mediated_url = response.headers["Location"]
    auth.logout()

    auth.login("modo")
    queue = client.get("/mediation/").get_data(as_text=True)
    assert mediated_url in queue and contact_url not in queue
    assert client.get(contact_url).status_code == 403  # not in the queue, not taken
    assert client.post_form(mediated_url + "/take").status_code == 302
    response = client.post_form(
        mediated_url + "/close", {"outcome": "orientation", "summary": "Orientés vers la mutuelle."}
    )
    assert response.status_code == 302
    assert "orientation vers un autre acteur" in client.get(mediated_url).get_data(as_text=True)
    auth.logout()

    for slug in ("cse-ratp-bus-pleyel", coop.slug):
        counts = client.get(f"/organisations/{slug}").get_data(as_text=True)
        assert (
            "1 demandée · 1 reçue · 1 acceptée · 1 avec médiation · orientation vers un autre acteur : 1"
            in counts
        )
        assert "vos séjours nous intéressent" not in counts  # counts only, never content
    auth.login("admin")
    report = client.get("/admin/mise-en-relation").get_data(as_text=True)
    assert "Mouvement syndical → Économie sociale et solidaire" in report
    assert "Économie sociale et solidaire → Mouvement syndical" in report
    assert "Délai médian avant une première réponse" in report


def test_bad_forms_get_a_400_and_a_french_message(app, client, auth):
    alice = make_user(app, "alice")
    org = make_organisation(app, alice, "Mutuelle des Lilas", kind="mutuelle_sante")
    auth.login("alice")
    response = client.post_form("/organisations/new", dict(ORG_FIELDS, departement="13"))
    assert response.status_code == 400
    assert "pas dans la région" in response.get_data(as_text=True)
    response = client.post_form("/organisations/new", dict(ORG_FIELDS, kind="banque"))
    assert response.status_code == 400
    url = f"/organisations/{org.slug}/offers/new"
    for changes, message in [
        ({"expires_at": "31/02/2027"}, "Date attendue"),
        ({"expires_at": (utcnow().date() - timedelta(days=1)).isoformat()}, "déjà passée"),
        ({"title": "Oui"}, "entre 5 et 150"),
        ({"theme": "inconnu"}, ""),
        ({"scope": "mondial"}, ""),
    ]:
        response = client.post_form(url, _offer_fields(**changes))
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True)
    assert client.get("/organisations/inconnue").status_code == 404
    assert client.get("/offers/99999999999").status_code == 404
    assert client.get("/contacts/12345").status_code == 404


def test_directory_filters_search_and_paging(make_app):
    app = make_app(FORUM_DIRECTORY_PER_PAGE=2)
    client = app.test_client()
    alice = make_user(app, "alice")
    scic = make_organisation(app, alice, "SCIC Énergies citoyennes", kind="scic", departement="93",
                             description="Des panneaux **photovoltaïques** sur les toits.")  # fmt: skip
    union = make_organisation(app, alice, "Union locale de Brest", family="syndical",
                              kind="union_locale", region="53", departement="29")  # fmt: skip
    commune = make_organisation(app, alice, "Commune de Montreuil", family="territoires",
                                kind="commune", departement="93")  # fmt: skip
    make_offer(app, alice, scic, "Toitures solaires", category="expertise", theme="urbain")
    make_offer(app, alice, commune, "Un lieu pour les associations", kind="need", category="lieu")

    def names(url):
        page = client.get(url)
        assert page.status_code == 200, url
        return re.findall(
            r'class="thread-title" href="/organisations/[^"]+">([^<]+)<',
            page.get_data(as_text=True),
        )

    assert names("/directory/") == ["Commune de Montreuil", "SCIC Énergies citoyennes"]
    assert names("/directory/?page=2") == ["Union locale de Brest"]
    assert names("/directory/?family=syndical") == ["Union locale de Brest"]
    assert names("/directory/?kind=scic") == ["SCIC Énergies citoyennes"]
    assert names("/directory/?region=53") == ["Union locale de Brest"]
    assert names("/directory/?departement=93&page=1") == [
        "Commune de Montreuil",
        "SCIC Énergies citoyennes",
    ]
    assert names("/directory/?offres=1") == ["SCIC Énergies citoyennes"]
    assert names("/directory/?besoins=1") == ["Commune de Montreuil"]
    assert names("/directory/?theme=urbain") == ["SCIC Énergies citoyennes"]
    assert names("/directory/?q=photovoltaique") == ["SCIC Énergies citoyennes"]
    assert names("/directory/?q=brest") == ["Union locale de Brest"]
    assert names("/directory/?q=inexistant") == []
    assert names("/directory/?family=banque&region=00&page=x") == [
        "Commune de Montreuil",
        "SCIC Énergies citoyennes",
    ]
    offers = client.get("/offers/?q=toitures").get_data(as_text=True)
    assert "Toitures solaires" in offers and "Un lieu pour" not in offers
    offers = client.get("/offers/?type=need").get_data(as_text=True)
    assert "Un lieu pour" in offers and "Toitures solaires" not in offers
    assert "Toitures" in client.get("/offers/?category=expertise&departement=93").get_data(
        as_text=True
    )
    assert union.id


def test_profiles_show_a_members_organisations(app, client):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    org = make_organisation(app, alice, "Fondation du Rail solidaire", kind="fondation")
    add_member(app, org, bob)
    page = client.get("/users/bob").get_data(as_text=True)
    assert f'href="/organisations/{org.slug}">Fondation du Rail solidaire</a> (membre)' in page
    assert "(représentant·e)" in client.get("/users/alice").get_data(as_text=True)


def test_merged_organisations_redirect_to_the_one_kept(app, client, auth):
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    keep = make_organisation(app, alice, "Régie de quartier du Val")
    dup = make_organisation(app, alice, "Regie de quartier du Val")
    auth.login("modo")
    page = client.get(f"/organisations/{dup.slug}").get_data(as_text=True)
    assert "Vérifier l&#39;organisation" in page or "Vérifier l'organisation" in page
    response = client.post_form(
        f"/organisations/{dup.slug}/merge", {"target": keep.slug, "reason": "doublon"}
    )
    assert response.status_code == 302
    response = client.get(f"/organisations/{dup.slug}")
    assert response.status_code == 301 and response.headers["Location"].endswith(keep.slug)
    assert "Regie de quartier du Val" not in client.get("/directory/").get_data(as_text=True)
    assert client.post_form(f"/organisations/{keep.slug}/verify").status_code == 302
    assert "vérifiée" in client.get(f"/organisations/{keep.slug}").get_data(as_text=True)
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "organisation:merge" in log and "organisation:verify" in log


def test_join_requests_over_http(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    org = make_organisation(app, alice, "Association Les Petits Débrouillards")
    url = f"/organisations/{org.slug}"
    auth.login("bob")
    assert client.post_form(f"{url}/join", {"message": "Bénévole"}).status_code == 302
    assert "Demander à rejoindre" not in client.get(url).get_data(as_text=True)
    assert client.post_form(f"{url}/join").status_code == 403  # already asked
    auth.logout()
    auth.login("alice")
    page = client.get(url).get_data(as_text=True)
    assert f'id="pending-{bob.id}"' in page and "« Bénévole »" in page
    assert client.post_form(f"{url}/members/{bob.id}/accept").status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert f'id="member-{bob.id}"' in page and f'id="pending-{bob.id}"' not in page
    assert client.post_form(f"{url}/members/{bob.id}/hand-on").status_code == 302
    assert "Publier une offre" not in client.get(url).get_data(as_text=True)
    response = client.post_form(f"{url}/members/{bob.id}/role", {"role": "member"})
    assert response.status_code == 403  # alice is no longer a representative


@pytest.mark.parametrize(
    "url",
    [
        "/organisations/{slug}/join",
        "/organisations/{slug}/leave",
        "/organisations/{slug}/verify",
        "/offers/{offer}/close",
        "/offers/{offer}/follow",
        "/contacts/{contact}/accept",
        "/contacts/{contact}/decline",
        "/contacts/{contact}/take",
        "/contacts/{contact}/close",
        "/contacts/{contact}/mediation",
    ],
)
def test_state_changes_are_post_only_with_csrf(make_app, url):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    a = make_organisation(app, alice, "Organisation A")
    b = make_organisation(app, bob, "Organisation B")
    offer = make_offer(app, bob, b, "Une offre à demander")
    with app.app_context():
        from forum.accounts.models import User
        from forum.directory import contacts

        request = contacts.request_contact(
            db.session.get(User, alice.id),
            None,
            "Bonjour à vous.",
            offer=db.session.get(Offer, offer.id),
        )
        contact_id = request.id
    url = url.format(slug=a.slug, offer=offer.id, contact=contact_id)
    client.post_form("/auth/login", {"login": "bob", "password": "un mot de passe solide"})
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.get(ContactRequest, contact_id).status == "pending"


def test_representatives_edit_their_organisation_and_offers(app, client, auth):
    alice = make_user(app, "alice")
    org = make_organisation(
        app, alice, "Mutuelle des Lilas", kind="mutuelle_sante", departement="75"
    )
    offer = make_offer(app, alice, org, "Ateliers prévention santé", category="sante")
    auth.login("alice")
    form = client.get(f"/organisations/{org.slug}/edit").get_data(as_text=True)
    assert 'value="Mutuelle des Lilas"' in form
    response = client.post_form(
        f"/organisations/{org.slug}/edit",
        dict(
            ORG_FIELDS,
            name="Mutuelle des Lilas et de Bagnolet",
            family="ess",
            kind="mutuelle_sante",
        ),
    )
    assert response.status_code == 302
    page = client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert "Mutuelle des Lilas et de Bagnolet" in page and "Saint-Denis" in page
    assert 'value="Ateliers prévention santé"' in client.get(f"/offers/{offer.id}/edit").get_data(
        as_text=True
    )
    response = client.post_form(
        f"/offers/{offer.id}/edit",
        _offer_fields(kind="offer", title="Ateliers prévention santé au travail", category="sante"),
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Offer, offer.id)
        assert (row.title, row.kind, row.theme.slug) == (
            "Ateliers prévention santé au travail",
            "offer",
            "developpement-local",
        )
    assert client.post_form(f"/offers/{offer.id}/close", {"status": "gagnée"}).status_code == 302
    assert client.post_form(f"/offers/{offer.id}/close", {"status": "retiree"}).status_code == 302
    assert "retirée" in client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert client.get(f"/offers/{offer.id}/edit").status_code == 403  # closed


def test_directory_notifications_lead_to_the_request(app, client, auth):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    make_organisation(
        app, alice, "Union locale de Montreuil", family="syndical", kind="union_locale"
    )
    coop = make_organisation(app, bob, "SCOP Les Menuisiers", kind="scop")
    auth.login("alice")
    response = client.post_form(
        f"/organisations/{coop.slug}/contact", {"message": "Bonjour, parlons formation."}
    )
    contact_url = response.headers["Location"]
    auth.logout()
    auth.login("bob")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Nouvelle demande de mise en relation pour votre organisation" in page
    notification_id = re.search(r'id="notification-(\d+)"', page).group(1)
    response = client.post_form(f"/notifications/{notification_id}/read")
    assert response.headers["Location"] == contact_url
    prefs = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Mises en relation, et nouvelles offres qui répondent à mes besoins" in prefs
