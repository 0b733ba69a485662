"""The public contract: URLs of DESIGN.md §4 resolve, POST routes need CSRF, headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.discussions.models import Post, Thread
from forum.extensions import db
from tests.factories import login, make_reply, make_thread, make_user

SAFE = {"GET", "HEAD", "OPTIONS"}
#: POST routes authenticated by a signed token in the URL instead of the session, so
#: without CSRF token: the one-click unsubscribe that mail clients POST (RFC 8058).
#: tests/notifications checks that a forged token changes nothing.
CSRF_EXEMPT = {"notifications.unsubscribe"}


def test_design_urls_resolve(app, client):
    alice = make_user(app, "alice", bio="Militante associative.")
    thread = make_thread(app, alice, "urbain")
    reply = make_reply(app, alice, thread)

    pages = {
        "/": 200,
        "/themes/services-publics": 200,
        "/themes/urbain": 200,
        "/themes/developpement-local": 200,
        f"/threads/{thread.id}": 200,
        f"/posts/{reply.id}": 302,
        "/auth/register": 200,
        "/auth/login": 200,
        "/users/alice": 200,
        "/healthz": 200,
        "/themes/urbain/new": 302,  # to the login page
    }
    for url, status in pages.items():
        assert client.get(url).status_code == status, url


def test_every_state_changing_route_is_post_and_csrf_protected(app, client):
    """No route changes state on GET; every POST without a token is refused with 400."""
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    reply = make_reply(app, alice, thread)
    client.application.config["WTF_CSRF_ENABLED"] = True
    login(client, "alice")

    post_routes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in {"static", *CSRF_EXEMPT}:
            continue
        args = {
            name: {"thread_id": thread.id, "post_id": reply.id, "slug": "urbain"}.get(name, 1)
            for name in rule.arguments
        }
        post_routes.append(rule.build(args, append_unknown=False)[1])

    assert len(post_routes) >= 8
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(Post)).scalar_one()
    for url in post_routes:
        response = client.post(url, data={"body": "Sans jeton", "title": "Sans jeton CSRF"})
        assert response.status_code == 400, url
        assert "formulaire a expiré" in response.get_data(as_text=True), url
    with app.app_context():
        after = db.session.execute(select(func.count()).select_from(Post)).scalar_one()
        assert after == before
        assert db.session.get(Post, reply.id).deleted_at is None
    # Still logged in: the logout route refused too.
    assert client.get("/themes/urbain/new").status_code == 200


def test_logout_and_delete_refuse_get(app, client, auth):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    auth.login("alice")
    assert client.get("/auth/logout").status_code == 405
    response = client.get(f"/posts/{thread.id}/delete")  # the confirmation page
    assert response.status_code == 200
    with app.app_context():
        assert db.session.execute(select(Post.deleted_at)).scalar() is None


def test_security_headers(app, client, auth):
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    for directive in (
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "img-src 'self'",
    ):
        assert directive in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"]
    assert "no-store" not in page.headers.get("Cache-Control", "")

    make_user(app, "alice")
    auth.login("alice")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_pages_carry_no_inline_script(app, client):
    html = client.get("/auth/register").get_data(as_text=True)
    assert "<script>" not in html
    assert 'onclick="' not in html


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/nulle-part", 404, "Page introuvable"),
        ("/threads/999999", 404, "Page introuvable"),
        ("/posts/999999", 404, "Page introuvable"),
        ("/themes/inconnu", 404, "Page introuvable"),
        ("/users/personne", 404, "Page introuvable"),
    ],
)
def test_friendly_error_pages(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert words in html
    assert "Traceback" not in html


def test_method_not_allowed_page(client):
    response = client.put("/")
    assert response.status_code == 405
    assert "Méthode non autorisée" in response.get_data(as_text=True)


def test_oversized_request_gets_413_page(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form(
        "/themes/urbain/new", {"title": "Trop long", "body": "x" * 1_100_000}
    )
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Thread)).scalar_one() == 0


def test_json_errors_for_json_clients(client):
    response = client.get("/nulle-part", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404


def test_healthz_reports_database(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    from forum import create_app
    from tests.conftest import base_config

    broken = tmp_path / "missing-dir" / "forum.sqlite3"  # SQLite cannot create it
    app = create_app(base_config(f"sqlite:///{broken}", str(tmp_path)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    with app.app_context():
        db.engine.dispose()


def test_static_files_are_versioned_and_kept(client, auth):
    """Pages name static files with a digest of their content; browsers keep them a year."""
    from tests.factories import make_user

    make_user(client.application, "alice")
    auth.login("alice")
    html = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/forum\.css\?v=[0-9a-f]{12})"', html).group(1)
    with client.get(stylesheet) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000"
    # Unversioned, the file is revalidated: an old page never pins an old stylesheet.
    with client.get("/static/css/forum.css") as response:
        assert response.headers["Cache-Control"] == "no-cache"
