"""Every page type in a real browser: no request leaves the host, axe-core finds no
serious or critical violation (the claims of /privacy and /accessibilite)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from forum.extensions import db
from tests.conftest import skip_or_fail
from tests.factories import PASSWORD, make_user
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: F401

#: axe-core impacts that fail the test.
BLOCKING = {"serious", "critical"}


@pytest.fixture
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _pages(app) -> tuple[list[str], list[str]]:
    """Anonymous page types and member page types of the demo forum."""
    from forum.accounts.models import Role, User
    from forum.debate.models import Poll, Synthesis
    from forum.directory.models import Offer, Organisation
    from forum.discussions.models import Post, Thread
    from forum.news import services as news_services
    from forum.seminars.models import Seminar, Session

    with app.app_context():
        admin = db.session.execute(select(User).where(User.role == Role.ADMIN.value)).scalar()
        news = news_services.publish(
            admin, "Le programme du séminaire est en ligne", "Ateliers, plénières et **salles**."
        )
        thread = db.session.execute(select(Thread).order_by(Thread.reply_count.desc())).scalar()
        post = db.session.execute(select(Post).where(Post.parent_id.is_not(None))).scalar()
        seminar = db.session.execute(select(Seminar)).scalar()
        session = db.session.execute(select(Session)).scalar()
        author = post.author.username
        organisation = db.session.execute(select(Organisation)).scalar()
        offer = db.session.execute(select(Offer)).scalar()
        poll = db.session.execute(select(Poll)).scalar()
        synthesis = db.session.execute(select(Synthesis)).scalar()
        anonymous = [
            "/",
            "/themes/services-publics",
            f"/threads/{thread.id}",
            f"/threads/{thread.id}/branch/{post.id}",
            f"/users/{author}",
            "/seminars/",
            f"/seminars/{seminar.id}",
            f"/sessions/{session.id}",
            "/news",
            f"/news/{news.id}",
            "/search?q=cooperatives",
            "/auth/login",
            "/auth/register",
            "/auth/reset",
            "/privacy",
            "/accessibilite",
            "/no-such-page",
            "/directory/",
            "/offers/",
            f"/organisations/{organisation.slug}",
            f"/offers/{offer.id}",
            f"/offers/{offer.id}/matches",
            f"/threads/{thread.id}/map",
            f"/polls/{poll.id}",
            f"/threads/{synthesis.thread_id}/synthesis",
        ]
    member = [
        "/settings",
        "/notifications",
        "/notifications/preferences",
        "/following",
        "/unread",
        f"/threads/{thread.id}/reply?parent_id={post.id}",
        f"/posts/{post.id}/report",
        "/themes/urbain/new",
        "/moderation/",
        "/moderation/log",
        "/messages/",
        "/messages/new",
        "/settings/data",
        "/settings/delete",
        "/organisations/new",
    ]
    return anonymous, member


def _check(page, base: str, url: str, foreign: list[str]) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    response = page.goto(base + url, wait_until="networkidle")
    assert response is not None and response.status in {200, 404}, (
        url,
        response and response.status,
    )
    results = Axe().run(page)
    return [
        f"{url}: {violation['id']} ({violation['impact']}) — {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_no_page_asks_another_host_and_axe_finds_nothing_serious(app, runner, live_server, browser):  # noqa: F811
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    make_user(app, "veille", role="moderator")
    anonymous, member = _pages(app)
    host = urlsplit(live_server).netloc
    foreign: list[str] = []
    problems: list[str] = []

    # bypass_csp: axe-core is injected by the test; the pages themselves keep their policy.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    try:
        page = context.new_page()
        page.on(
            "request",
            lambda request: (
                urlsplit(request.url).scheme in {"http", "https", "ws", "wss"}
                and urlsplit(request.url).netloc != host
                and foreign.append(request.url)
            ),
        )
        for url in anonymous:
            problems += _check(page, live_server, url, foreign)
        page.goto(f"{live_server}/auth/login")
        page.get_by_label("Pseudo ou adresse e-mail").fill("veille")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"{live_server}/")
        for url in member:
            problems += _check(page, live_server, url, foreign)
    finally:
        context.close()
    assert foreign == [], foreign
    assert problems == [], "\n".join(problems)
