"""Account pages: register, log in and out, sessions, profiles, settings.

Each test checks the HTTP answer *and* what the database holds afterwards.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.accounts import services
from forum.accounts.models import User
from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.extensions import db
from tests.factories import PASSWORD, make_reply, make_thread, make_user

NEW_PASSWORD = "une toute nouvelle phrase"
LONG_PASSWORD = "Une longue phrase de passe, " * 7 + "fin"  # 199 characters
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")([^"]+)(")')


def _row(app, username: str) -> User:
    """The user as stored, read in its own context and detached."""
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.username_key == services.username_key(username))
        ).scalar_one()
        db.session.expunge(user)
        return user


def _user_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _registration(**changes) -> dict:
    data = {
        "username": "nouvelle",
        "email": "nouvelle@exemple.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data.update(changes)
    return data


def _login(client, login: str, password: str = PASSWORD, next: str | None = None):
    url = "/auth/login" + (f"?next={next}" if next is not None else "")
    return client.post_form(url, {"login": login, "password": password})


def _is_logged_in(client) -> bool:
    response = client.get("/settings")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# --- registration ----------------------------------------------------------------------------


def test_register_page_shows_the_form(client):
    response = client.get("/auth/register")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("username", "email", "password", "password_confirm", "csrf_token"):
        assert f'name="{name}"' in page


def test_register_creates_a_member_and_logs_them_in(app, client):
    response = client.post_form("/auth/register", _registration(username="Nouvelle"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = _row(app, "nouvelle")
    assert (user.username, user.email, user.role) == ("Nouvelle", "nouvelle@exemple.org", "member")
    assert user.password_hash != PASSWORD
    assert user.password_hash.startswith(app.config["FORUM_PASSWORD_HASH"])
    assert _is_logged_in(client)


def test_register_follows_a_local_next_only(app, client):
    response = client.post_form(
        "/auth/register?next=//evil.example", _registration(username="nouvelle")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _user_count(app) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "al"}, "entre 3 et 30 caractères"),
        ({"username": "a" * 31}, "entre 3 et 30 caractères"),
        ({"username": "a" * 61}, "caractères"),
        ({"username": ""}, "obligatoire"),
        ({"username": "Alice"}, "déjà pris"),
        ({"username": "ALICE"}, "déjà pris"),
        ({"username": "Ａlice"}, "déjà pris"),
        ({"username": "alice\u200b"}, "caractère invisible"),
        ({"username": "al\u202eice"}, "caractère invisible"),
        ({"username": "alice\u3164"}, "caractère invisible"),
        ({"username": "ali\x00ce"}, "caractère invisible"),
        ({"username": "jean marc"}, "lettres, des chiffres"),
        ({"email": "pas-une-adresse"}, "pas valide"),
        ({"email": "ALICE@exemple.org"}, "adresse e-mail"),
        ({"email": "nou\x00velle@exemple.org"}, "pas valide"),
        ({"email": ""}, "obligatoire"),
        ({"password": "court", "password_confirm": "court"}, "au moins 10 caractères"),
        ({"password": "motdepasse", "password_confirm": "motdepasse"}, "trop courant"),
        ({"password": "azertyuiop", "password_confirm": "azertyuiop"}, "trop courant"),
        ({"password": "1234567890", "password_confirm": "1234567890"}, "trop courant"),
        (
            {
                "username": "jeanmichel42",
                "password": "JeanMichel42",
                "password_confirm": "JeanMichel42",
            },
            "pseudo",
        ),
        ({"password_confirm": PASSWORD + "!"}, "diffèrent"),
        ({"password": PASSWORD + "\x00", "password_confirm": PASSWORD + "\x00"}, "caractère nul"),
        ({"password_confirm": PASSWORD + "\x00"}, "diffèrent"),
    ],
)
def test_register_refusal_rerenders_the_form_with_a_message(app, client, changes, message):
    make_user(app, "alice")  # alice@exemple.org
    response = client.post_form("/auth/register", _registration(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'name="password_confirm"' in page  # the form again, not an error page
    assert _user_count(app) == 1
    assert not _is_logged_in(client)


def test_register_ignores_fields_that_are_not_in_the_form(app, client):
    data = _registration(role="admin", session_version="99", id="5", password_hash="x")
    response = client.post_form("/auth/register", data)
    assert response.status_code == 302
    user = _row(app, "nouvelle")
    assert user.role == "member"
    assert user.session_version == 1
    assert user.password_hash.startswith(app.config["FORUM_PASSWORD_HASH"])


def test_register_without_csrf_token_is_refused(app, client):
    response = client.post("/auth/register", data=_registration())
    assert response.status_code == 400
    assert _user_count(app) == 0


def test_register_when_logged_in_goes_home(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form("/auth/register", _registration())
    assert response.status_code == 302
    assert _user_count(app) == 1


def test_a_200_character_password_works_and_is_not_truncated(app, client, auth):
    data = _registration(password=LONG_PASSWORD, password_confirm=LONG_PASSWORD)
    assert client.post_form("/auth/register", data).status_code == 302
    auth.logout()
    assert _login(client, "nouvelle", LONG_PASSWORD[:-1] + "X").status_code == 400
    assert _login(client, "nouvelle", LONG_PASSWORD[:72]).status_code == 400
    assert not _is_logged_in(client)
    assert _login(client, "nouvelle", LONG_PASSWORD).status_code == 302
    assert _is_logged_in(client)


# --- login and logout ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login", ["alice", "Alice", "ALICE", "alice@exemple.org", "ALICE@Exemple.Org"]
)
def test_login_with_pseudo_or_email_in_any_case(app, client, login):
    make_user(app, "Alice")
    response = _login(client, login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _is_logged_in(client)


def test_login_follows_a_local_next(app, client):
    make_user(app, "alice")
    response = _login(client, "alice", next="/themes/urbain")
    assert response.status_code == 302
    assert response.headers["Location"] == "/themes/urbain"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil",
        "https:evil.example",
        "%2F%2Fevil.example",
        "/%09/evil.example",
        "%0D%0A//evil.example",
        "",
    ],
)
def test_login_does_not_follow_an_offsite_next(app, client, target):
    make_user(app, "alice")
    response = _login(client, "alice", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _is_logged_in(client)


def _without_csrf(page: str) -> str:
    return CSRF_VALUE.sub(r"\1TOKEN\3", page)


def test_login_failure_is_the_same_for_unknown_user_and_wrong_password(app, client):
    make_user(app, "alice")
    wrong_password = _login(client, "alice", "pas le bon mot de passe")
    unknown_user = _login(client, "alicia", "pas le bon mot de passe")
    assert wrong_password.status_code == unknown_user.status_code == 400
    wrong_page = _without_csrf(wrong_password.get_data(as_text=True))
    unknown_page = _without_csrf(unknown_user.get_data(as_text=True))
    assert "Identifiant ou mot de passe incorrect." in wrong_page
    assert wrong_page.replace('value="alice"', 'value="X"') == unknown_page.replace(
        'value="alicia"', 'value="X"'
    )
    assert not _is_logged_in(client)


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("ali\x00ce", PASSWORD),
        ("alice@exem\x00ple.org", PASSWORD),
        ("alice", PASSWORD + "\x00"),
        ("alice", "\x00"),
    ],
)
def test_login_with_nul_bytes_is_a_form_error(app, client, login, password):
    make_user(app, "alice")
    response = _login(client, login, password)
    assert response.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in response.get_data(as_text=True)
    assert not _is_logged_in(client)


def test_login_with_empty_fields_is_a_form_error(app, client):
    response = client.post_form("/auth/login", {"login": "", "password": ""})
    assert response.status_code == 400
    assert "obligatoire" in response.get_data(as_text=True)


def test_logout_by_get_is_not_allowed(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert _is_logged_in(client)


def test_logout_ends_this_session_and_the_others(app, client, auth):
    alice = make_user(app, "alice")
    other = app.test_client()
    assert _login(other, "alice").status_code == 302
    auth.login("alice")
    response = auth.logout()
    assert response.status_code == 302
    assert not _is_logged_in(client)
    assert not _is_logged_in(other)
    assert _row(app, "alice").session_version == alice.session_version + 1


def test_logout_when_anonymous_changes_nothing(app, client, auth):
    alice = make_user(app, "alice")
    assert auth.logout().status_code == 302
    assert _row(app, "alice").session_version == alice.session_version


def _session_cookie(response, app) -> str:
    name = app.config["SESSION_COOKIE_NAME"]
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_user(app, "alice")
    cookie = _session_cookie(_login(client, "alice"), app)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    make_user(app, "alice")
    response = client.get("/auth/login", base_url="https://localhost")
    cookie = _session_cookie(response, app)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    token = CSRF_VALUE.search(response.get_data(as_text=True))[2]
    response = client.post(  # over HTTPS, Flask-WTF also wants a same-site Referer
        "/auth/login",
        data={"login": "alice", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/auth/login"},
    )
    assert response.status_code == 302
    assert "Secure" in _session_cookie(response, app)


# --- public profile --------------------------------------------------------------------------


def test_profile_shows_the_public_details(app, client):
    alice = make_user(
        app,
        "alice",
        display_name="Alice Martin",
        bio="Élue CSE, je m'intéresse aux mutuelles.",
        family="syndical",
        organisation="CSE Renault Flins",
        territory="Yvelines",
    )
    bob = make_user(app, "bob")
    thread = make_thread(app, alice, theme="urbain", title="Logement et mobilité")
    other = make_thread(app, bob, title="La santé au travail")
    reply = make_reply(app, alice, other)
    response = client.get("/users/alice")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in ("Alice Martin", "@alice", "CSE Renault Flins", "Yvelines", "Mouvement syndical"):
        assert text in page
    assert "Élue CSE, je m&#39;intéresse aux mutuelles." in page
    assert f'href="/threads/{thread.id}"' in page
    assert "Logement et mobilité" in page
    assert f'href="/posts/{reply.id}"' in page
    assert "La santé au travail" in page


def test_profile_escapes_what_the_user_wrote(app, client):
    make_user(app, "alice", display_name="<b>Alice</b>", bio="<script>alert(1)</script>")
    page = client.get("/users/alice").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Alice</b>" not in page


@pytest.mark.parametrize("typed", ["alice", "ALICE", "Alice", "Ａlice"])
def test_profile_lookup_ignores_case_and_width(app, client, typed):
    make_user(app, "Alice", display_name="Alice Martin")
    response = client.get(f"/users/{typed}")
    assert response.status_code == 200
    assert "Alice Martin" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["personne", "ali%00ce", "alice%E2%80%8B", "a" * 300])
def test_profile_of_unknown_user_is_404(app, client, username):
    make_user(app, "alice")
    assert client.get(f"/users/{username}").status_code == 404


def test_profile_does_not_list_deleted_posts(app, client):
    alice = make_user(app, "alice")
    thread = make_thread(app, make_user(app, "bob"))
    kept = make_reply(app, alice, thread)
    gone = make_reply(app, alice, thread)
    with app.app_context():
        post = db.session.get(Post, gone.id)
        discussions.delete_post(db.session.get(User, alice.id), post)
    page = client.get("/users/alice").get_data(as_text=True)
    assert f'href="/posts/{kept.id}"' in page
    assert f'href="/posts/{gone.id}"' not in page


def test_profile_costs_the_same_queries_whatever_its_content(app, client, query_counter):
    alice = make_user(app, "alice", family="ess")
    thread = make_thread(app, alice)
    make_reply(app, alice, thread)
    client.get("/users/alice")  # warm up what is loaded once per process
    with query_counter() as small:
        assert client.get("/users/alice").status_code == 200
    bob = make_user(app, "bob")
    for theme in ("services-publics", "urbain", "developpement-local"):
        for _ in range(3):
            make_reply(app, alice, make_thread(app, bob, theme=theme))
            make_thread(app, alice, theme=theme)
    with query_counter() as large:
        assert client.get("/users/alice").status_code == 200
    assert large.count == small.count, large.statements


# --- settings --------------------------------------------------------------------------------


def test_settings_page_needs_a_login(app, client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fsettings"


@pytest.mark.parametrize("url", ["/settings/profile", "/settings/password"])
def test_settings_forms_need_a_login_and_change_nothing(app, client, url):
    alice = make_user(app, "alice")
    data = _profile(id=str(alice.id)) | _password_change(current="", new=NEW_PASSWORD)
    response = client.post_form(url, data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    user = _row(app, "alice")
    assert (user.display_name, user.password_hash) == ("", alice.password_hash)


@pytest.mark.parametrize("url", ["/settings/profile", "/settings/password"])
def test_settings_forms_are_post_only(app, client, auth, url):
    make_user(app, "alice")
    auth.login("alice")
    assert client.get(url).status_code == 405


def test_settings_page_shows_both_forms_filled_in(app, client, auth):
    make_user(app, "alice", display_name="Alice Martin", territory="Lyon")
    auth.login("alice")
    response = client.get("/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Alice Martin"' in page
    assert 'value="Lyon"' in page
    assert 'name="current_password"' in page


def _profile(**changes) -> dict:
    data = {
        "display_name": "Alice Martin",
        "bio": "Militante associative.",
        "family": "ess",
        "organisation": "Mutuelle des Lilas",
        "territory": "Seine-Saint-Denis",
        "locale": "fr",
    }
    data.update(changes)
    return data


def test_settings_profile_saves_every_field(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form("/settings/profile", _profile())
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings"
    user = _row(app, "alice")
    assert (user.display_name, user.bio, user.family) == (
        "Alice Martin",
        "Militante associative.",
        "ess",
    )
    assert (user.organisation, user.territory, user.locale) == (
        "Mutuelle des Lilas",
        "Seine-Saint-Denis",
        "fr",
    )
    assert "Économie sociale et solidaire" in client.get("/users/alice").get_data(as_text=True)


def test_settings_profile_can_clear_family_and_locale(app, client, auth):
    make_user(app, "alice", family="ess", locale="en")
    auth.login("alice")
    response = client.post_form("/settings/profile", _profile(family="", locale=""))
    assert response.status_code == 302
    user = _row(app, "alice")
    assert (user.family, user.locale) == (None, None)


def test_settings_profile_ignores_fields_that_are_not_in_the_form(app, client, auth):
    alice = make_user(app, "alice")
    auth.login("alice")
    data = _profile(role="admin", session_version="99", id="5", username="root", email="x@y.fr")
    response = client.post_form("/settings/profile", data)
    assert response.status_code == 302
    user = _row(app, "alice")
    assert user.role == "member"
    assert user.session_version == alice.session_version
    assert (user.id, user.username, user.email) == (alice.id, "alice", "alice@exemple.org")
    assert user.display_name == "Alice Martin"


@pytest.mark.parametrize(
    "changes",
    [
        {"family": "patronat"},
        {"locale": "de"},
        {"display_name": "x" * 81},
        {"bio": "x" * 1001},
        {"display_name": "Ali\x00ce"},
        {"bio": "Une bio\x00"},
        {"organisation": "CSE\x00"},
        {"territory": "Lyon\x00"},
    ],
)
def test_settings_profile_refusal_is_a_400_and_changes_nothing(app, client, auth, changes):
    make_user(app, "alice")
    auth.login("alice")
    response = client.post_form("/settings/profile", _profile(**changes))
    assert response.status_code == 400
    assert 'name="display_name"' in response.get_data(as_text=True)
    user = _row(app, "alice")
    assert (user.display_name, user.bio, user.family, user.locale) == ("", "", None, None)


def test_a_user_with_locale_en_gets_the_english_interface(app, client, auth):
    make_user(app, "alice", locale="en")
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)
    auth.login("alice")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/settings").get_data(as_text=True)


def test_choosing_english_in_settings_switches_the_interface(app, client, auth):
    make_user(app, "alice")
    auth.login("alice")
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)
    assert client.post_form("/settings/profile", _profile(locale="en")).status_code == 302
    assert _row(app, "alice").locale == "en"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def _password_change(current=PASSWORD, new=NEW_PASSWORD, confirm=None) -> dict:
    return {
        "current_password": current,
        "password": new,
        "password_confirm": new if confirm is None else confirm,
    }


def test_password_change_keeps_this_session_and_ends_the_others(app, client, auth):
    alice = make_user(app, "alice")
    other = app.test_client()
    assert _login(other, "alice").status_code == 302
    auth.login("alice")
    response = client.post_form("/settings/password", _password_change())
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings"
    assert _is_logged_in(client)
    assert not _is_logged_in(other)
    assert other.get("/settings").headers["Location"].startswith("/auth/login")
    user = _row(app, "alice")
    assert user.session_version == alice.session_version + 1
    assert user.password_hash != alice.password_hash
    assert _login(other, "alice", PASSWORD).status_code == 400
    assert _login(other, "alice", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_password_change(current="pas le bon mot de passe"), "actuel est incorrect"),
        (_password_change(current=PASSWORD + "\x00"), "actuel est incorrect"),
        (_password_change(current=""), "obligatoire"),
        (_password_change(confirm=NEW_PASSWORD + "!"), "diffèrent"),
        (_password_change(new="court"), "au moins 10 caractères"),
        (_password_change(new="azertyuiop"), "trop courant"),
        (_password_change(new="JEANMICHEL42"), "pseudo"),
        (_password_change(new=NEW_PASSWORD + "\x00"), "caractère nul"),
    ],
)
def test_password_change_refusal_is_a_400_and_changes_nothing(app, client, auth, data, message):
    alice = make_user(app, "JeanMichel42")
    auth.login("jeanmichel42")
    response = client.post_form("/settings/password", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'name="current_password"' in page
    user = _row(app, "jeanmichel42")
    assert user.password_hash == alice.password_hash
    assert user.session_version == alice.session_version
    assert _is_logged_in(client)
