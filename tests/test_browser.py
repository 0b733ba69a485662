"""A real browser (Debian's chromium driven by Playwright) against a live server."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("FORUM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page() -> Iterator:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1000, "height": 900})
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_register_open_thread_and_reply_in_a_tree(live_server, page):
    # After a click, only expect(...) waits for the next page: no reading right away.
    from playwright.sync_api import expect

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Créer un compte").first.click()
    page.get_by_label("Pseudo").fill("josiane")
    page.get_by_label("Adresse e-mail").fill("josiane@exemple.org")
    page.get_by_label("Mot de passe (10 caractères au moins)").fill("les services publics")
    page.get_by_label("Mot de passe, une seconde fois").fill("les services publics")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Votre compte est créé")).to_be_visible()

    page.goto(f"{live_server}/themes/services-publics")
    page.get_by_role("link", name="Ouvrir un fil").click()
    page.get_by_label("Titre").fill("La poste du bourg ferme le samedi")
    page.get_by_label("Message").fill("Qui a obtenu un **maintien** des horaires ?")
    page.get_by_role("button", name="Publier le fil").click()
    expect(page).to_have_url(re.compile(r"/threads/\d+$"))
    expect(page.locator(".post.opening strong")).to_have_text("maintien")

    page.get_by_label("Votre réponse").fill("Chez nous, une pétition a suffi.")
    page.get_by_role("button", name="Publier la réponse").click()
    first_reply = page.locator("article.post").nth(1)
    expect(first_reply).to_contain_text("une pétition a suffi")

    first_reply.get_by_role("link", name="Répondre").click()
    page.get_by_label("Votre réponse").fill("Laquelle ? Avec les élu·es ?")
    page.get_by_role("button", name="Publier la réponse").click()

    posts = page.locator("article.post")
    expect(posts).to_have_count(3)
    # The answer to the reply is nested inside the reply's branch, after it.
    nested = page.locator(".children .children article.post")
    expect(nested).to_have_count(1)
    expect(nested).to_contain_text("Avec les élu·es")
    # The page comes back on the new answer.
    expect(page).to_have_url(re.compile(r"#post-\d+$"))
    target = page.url.split("#")[1]
    expect(nested).to_have_id(target)
    expect(page.locator(f"#{target}")).to_be_in_viewport()
    assert page.console_errors == []


def test_home_page_is_light_and_pages_read_without_javascript(app, live_server, page):
    """The home page: at most 4 requests and 60 KB, stylesheet included; threads read without JS."""
    from tests.factories import make_reply, make_thread, make_user

    author = make_user(app, "camille")
    threads = [make_thread(app, author, theme) for theme in ("services-publics", "urbain") * 5]
    reply = make_reply(app, author, threads[-1], body="Une réponse **lisible** sans script.")
    responses = []
    page.on("response", lambda response: responses.append(response))

    page.goto(f"{live_server}/", wait_until="networkidle")

    weight = sum(
        len(r.body()) + sum(len(k) + len(v) + 4 for k, v in r.headers.items()) for r in responses
    )
    assert 1 <= len(responses) <= 4, [r.url for r in responses]
    assert weight <= 60 * 1024, weight
    assert page.console_errors == []

    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        bare = context.new_page()
        bare.goto(f"{live_server}/threads/{threads[-1].id}")
        assert bare.locator(f"#post-{reply.id} strong").inner_text() == "lisible"
        assert bare.get_by_role("heading", level=1).inner_text() == threads[-1].title
    finally:
        context.close()


def test_write_and_read_a_conversation_without_javascript(app, live_server, page):
    """Private messages in a browser with scripts off: write from a profile, read, answer."""
    from tests.factories import PASSWORD, make_user

    make_user(app, "mathilde")
    make_user(app, "yacine")
    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        bare = context.new_page()

        def log_in(name):
            bare.goto(f"{live_server}/auth/login")
            bare.get_by_label("Pseudo ou adresse e-mail").fill(name)
            bare.get_by_label("Mot de passe").fill(PASSWORD)
            bare.get_by_role("button", name="Se connecter").click()

        log_in("mathilde")
        bare.goto(f"{live_server}/users/yacine")
        bare.get_by_role("link", name="Écrire un message").click()
        assert bare.get_by_label("Destinataires").input_value() == "yacine"
        bare.get_by_label("Sujet").fill("Un atelier commun ?")
        bare.get_by_label("Message", exact=True).fill("Notre CSE cherche une **coopérative**.")
        bare.get_by_role("button", name="Envoyer").click()
        assert re.search(r"/messages/\d+", bare.url)
        assert bare.locator("article.message strong").inner_text() == "coopérative"
        conversation_url = bare.url.split("#")[0]

        bare.goto(f"{live_server}/auth/login")
        bare.context.clear_cookies()
        log_in("yacine")
        bare.goto(f"{live_server}/")
        assert bare.locator(".messages-link .bell-count").inner_text() == "1"
        bare.get_by_role("link", name=re.compile("^Messages")).click()
        bare.get_by_role("link", name=re.compile("Un atelier commun")).click()
        assert "coopérative" in bare.locator("article.message").first.inner_text()
        bare.get_by_label("Votre message").fill("Avec plaisir, parlons-en jeudi.")
        bare.get_by_role("button", name="Répondre").click()
        assert bare.locator("article.message").count() == 2
        assert "parlons-en jeudi" in bare.locator("article.message").nth(1).inner_text()
        assert bare.url.split("#")[0] == conversation_url
        assert bare.locator(".messages-link .bell-count").count() == 0
    finally:
        context.close()
