"""A real browser, JavaScript off: a need, its matches, a request, its acceptance."""

from __future__ import annotations

import re

import pytest

from tests.directory.factories import make_offer, make_organisation
from tests.factories import PASSWORD, make_user
from tests.test_browser import live_server, page  # noqa: F401 - the fixtures

pytestmark = pytest.mark.browser


def _login(tab, base: str, username: str) -> None:
    tab.goto(f"{base}/auth/login")
    tab.get_by_label("Pseudo ou adresse e-mail").fill(username)
    tab.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    tab.locator("main").get_by_role("button", name="Se connecter").click()


def test_need_match_request_accept_without_javascript(app, live_server, page):  # noqa: F811
    leila, bob = make_user(app, "leila"), make_user(app, "bob")
    cse = make_organisation(
        app, leila, "CSE Logistique Plaine Commune", family="syndical", kind="cse"
    )
    coop = make_organisation(app, bob, "Vacances Ensemble", kind="cooperative", departement="75")
    need = make_offer(
        app, leila, cse, "Séjours de vacances solidaires", kind="need", category="vacances"
    )
    make_offer(
        app,
        bob,
        coop,
        "Séjours familles en villages vacances",
        category="vacances",
        scope="national",
    )

    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        tab = context.new_page()
        _login(tab, live_server, "leila")
        tab.goto(f"{live_server}/offers/{need.id}")
        tab.get_by_role("link", name="Offres qui pourraient répondre").click()
        first = tab.locator(".match-list li").first
        assert "Séjours familles en villages vacances" in first.inner_text()
        assert "même région · même catégorie" in first.locator(".match-reasons").inner_text()
        first.get_by_role("link", name="Demander une mise en relation").click()
        tab.get_by_label("Votre message").fill(
            "Bonjour, vos séjours nous intéressent pour juillet."
        )
        tab.get_by_role("button", name="Envoyer la demande").click()
        assert re.search(r"/contacts/\d+$", tab.url)
        contact_url = tab.url
        tab.locator("header").get_by_role("button", name="Se déconnecter").click()

        _login(tab, live_server, "bob")
        tab.goto(contact_url)
        tab.get_by_label("Votre message (facultatif)").fill("Avec plaisir !")
        tab.get_by_role("button", name="Accepter").click()
        assert tab.url == contact_url
        assert tab.locator(".contact-status strong").inner_text() == "acceptée"
        assert "Avec plaisir !" in tab.locator("main").inner_text()
    finally:
        context.close()
