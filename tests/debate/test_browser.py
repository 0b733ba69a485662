"""In Chromium with JavaScript off: a member reacts to a post and votes in a poll, on its
page and on the thread page."""

from __future__ import annotations

from forum.debate import services
from forum.discussions.models import Thread
from forum.extensions import db
from tests.debate.conftest import reply_with, user_named
from tests.factories import PASSWORD, make_thread, make_user
from tests.test_browser import live_server, page  # noqa: F401 - fixtures


def test_react_and_vote_without_javascript(app, live_server, page):  # noqa: F811
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    make_user(app, "josiane")
    thread = make_thread(app, alice, title="Les transports du soir")
    post = reply_with(app, bruno, thread, position="pour", body="Un car à 21 h, enfin !")
    with app.app_context():
        poll = services.create_poll(
            user_named("alice"),
            db.session.get(Thread, thread.id),
            question="Quel horaire pour le dernier car ?",
            options="20 h\n21 h\n22 h",
        )
        poll_id = poll.id
    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        bare = context.new_page()
        bare.goto(f"{live_server}/auth/login")
        bare.get_by_label("Pseudo ou adresse e-mail").fill("josiane")
        bare.get_by_label("Mot de passe").fill(PASSWORD)
        bare.get_by_role("button", name="Se connecter").click()

        bare.goto(f"{live_server}/threads/{thread.id}")
        article = bare.locator(f"#post-{post.id}")
        assert article.locator(".badge.position").text_content() == "Position : Pour"
        article.get_by_role("button", name="d'accord").click()
        article = bare.locator(f"#post-{post.id}")
        button = article.get_by_role("button", name="d'accord · 1")
        assert button.get_attribute("aria-pressed") == "true"
        article.locator("details.who-reacted summary").click()
        assert "josiane" in article.locator("details.who-reacted").inner_text()

        bare.goto(f"{live_server}/polls/{poll_id}")
        bare.get_by_label("21 h").check()
        bare.get_by_role("button", name="Voter").click()
        assert "1 voix (100 %)" in bare.locator(".poll-results").inner_text()
        bare.get_by_label("22 h").check()
        bare.get_by_role("button", name="Changer mon vote").click()
        results = bare.locator(".poll-results").inner_text()
        assert "0 voix (0 %)" in results and results.count("1 voix (100 %)") == 1

        # On the thread page itself: the poll, its form and its bars.
        bare.goto(f"{live_server}/threads/{thread.id}")
        inline = bare.locator(f"#poll-{poll_id}")
        assert inline.get_by_label("22 h").is_checked()
        inline.get_by_label("20 h").check()
        inline.get_by_role("button", name="Changer mon vote").click()
        assert bare.url.endswith(f"/threads/{thread.id}#poll-{poll_id}")
        inline = bare.locator(f"#poll-{poll_id}")
        assert inline.get_by_label("20 h").is_checked()
        bars = inline.locator(".poll-results").inner_text()
        assert bars.count("1 voix (100 %)") == 1 and bars.index("1 voix") < bars.index("0 voix")
    finally:
        context.close()
