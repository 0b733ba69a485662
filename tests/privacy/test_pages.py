"""/privacy and /accessibilite: what they say, and that every page links to them."""

from __future__ import annotations

import re

from tests.factories import make_thread, make_user


def test_privacy_page_answers_what_who_how_long_and_how_to_leave(make_app):
    app = make_app(
        FORUM_DATA_CONTROLLER="Union régionale des Scop",
        FORUM_DATA_CONTACT="dpo@exemple.org",
        FORUM_IP_RETENTION_DAYS=14,
        FORUM_NOTIFICATION_RETENTION_DAYS=90,
    )
    page = app.test_client().get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Union régionale des Scop" in html
    assert 'href="mailto:dpo@exemple.org"' in html
    # The periods on the page are the settings in force, not a copy of the defaults.
    assert "jamais plus de 14 jours" in html
    assert "90 jours après leur lecture" in html
    for heading in ("Qui en est responsable", "Ce qui est conservé", "Cookies", "E-mails",
                    "Exporter ou effacer vos données"):  # fmt: skip
        assert heading in html, heading
    assert "Qui la voit" in html and "jamais affichée" in html


def test_accessibility_statement_has_the_rgaa_sections(client):
    page = client.get("/accessibilite")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("État de conformité", "Contenus non accessibles",
                    "Environnement de test", "information et contact",
                    "Voies de recours"):  # fmt: skip
        assert heading in html, heading
    assert "<strong>partiellement conforme</strong>" in html
    assert "Défenseur des droits" in html


def test_every_page_links_to_both_from_its_footer_and_registration_to_privacy(app, client, auth):
    make_user(app, "alice")
    thread = make_thread(app, make_user(app, "bruno"))
    pages = ["/", "/themes/urbain", f"/threads/{thread.id}", "/seminars/", "/auth/login"]
    for url in pages:
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        footer = html[html.index('<footer class="site-footer">') :]
        assert 'href="/privacy"' in footer, url
        assert 'href="/accessibilite"' in footer, url
    register = client.get("/auth/register").get_data(as_text=True)
    start = register.index('<form method="post"')
    form = register[start : register.index("</form>", start)]
    assert 'href="/privacy"' in form


def test_the_bell_is_an_svg_icon_with_a_text_alternative(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    html = client.get("/").get_data(as_text=True)
    bell = re.search(r'<a class="bell[^"]*"[^>]*>(.*?)</a>', html, re.S).group(1)
    assert "🔔" not in html
    assert '<svg class="icon" aria-hidden="true"' in bell
    assert '<span class="visually-hidden">Notifications</span>' in bell


def test_optional_profile_fields_say_they_are_optional_and_public(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    html = client.get("/settings").get_data(as_text=True)
    assert "Tous ces champs sont facultatifs et visibles de toutes et tous" in html


def test_images_may_only_come_from_the_forum_itself(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["img-src"] == "'self' data:"
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
