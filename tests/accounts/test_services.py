"""Account services and the ``flask forum`` commands built on them.

Each service call is checked on what it returns *and* on what the database
holds afterwards, read back in a fresh app context. Services are called inside a request
context, as views call them (their messages are translated for the reader).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.accounts import services
from forum.accounts.models import Role, User
from forum.extensions import db
from forum.refusals import Refused
from tests.factories import PASSWORD, make_user

LONG_PASSWORD = "Une longue phrase de passe, " * 7 + "fin"  # 199 characters


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


# --- usernames -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [("Alice", "alice"), ("ALICE", "alice"), ("Ａｌｉｃｅ", "alice"), ("Straße", "strasse")],
)
def test_username_key_folds_case_and_width(typed, key):
    assert services.username_key(typed) == key


@pytest.mark.parametrize(
    "look_alike",
    [
        "ALICE",
        "alice",
        "Ａlice",  # fullwidth A
        "  Alice  ",
        "alice\u200b",  # zero-width space
        "al\u200dice",  # zero-width joiner
        "al\u202eice",  # right-to-left override
        "\u2066alice\u2069",  # bidi isolate
        "alice\ufeff",  # byte order mark
        "alice\u3164",  # Hangul filler: a letter that shows as nothing
        "alice\u115f",  # Hangul choseong filler
        "ali\uffa0ce",  # halfwidth Hangul filler
    ],
)
def test_register_refuses_look_alikes_of_a_taken_username(app, look_alike):
    make_user(app, "Alice")
    with app.test_request_context(), pytest.raises(Refused):
        services.register(look_alike, "autre@exemple.org", PASSWORD)
    assert _user_count(app) == 1


@pytest.mark.parametrize(
    "invisible", ["bob\u200b", "b\u202eob", "bob\x00", "bob\u3164", "\u115fbob", "b\u2060ob"]
)
def test_username_with_invisible_characters_is_refused_even_when_free(app, invisible):
    with app.test_request_context(), pytest.raises(Refused) as refused:
        services.check_username(invisible)
    assert "invisible" in refused.value.message


@pytest.mark.parametrize("username", ["abc", "a" * 30, "Zoé", "jean-marc.dupont", "élu_local"])
def test_check_username_accepts_names_of_3_to_30_characters(app, username):
    with app.test_request_context():
        assert services.check_username(username) == username


@pytest.mark.parametrize("username", ["ab", "a" * 31, "", "   ", "-alice", "alice.", "al ice"])
def test_check_username_refuses_bad_shapes(app, username):
    with app.test_request_context(), pytest.raises(Refused):
        services.check_username(username)


def test_username_is_stored_as_typed_with_its_folded_key(app):
    make_user(app, "Ｍarie")
    user = _row(app, "marie")
    assert user.username == "Marie"  # NFKC: the fullwidth letter is stored plain
    assert user.username_key == "marie"


# --- e-mail ----------------------------------------------------------------------------------


def test_register_refuses_an_email_taken_in_another_case(app):
    make_user(app, "alice")  # alice@exemple.org
    with app.test_request_context(), pytest.raises(Refused) as refused:
        services.register("bob", "ALICE@Exemple.ORG", PASSWORD)
    assert "adresse e-mail" in refused.value.message
    assert _user_count(app) == 1


@pytest.mark.parametrize(
    "email", ["pas-une-adresse", "a@b", "alice@@exemple.org", "al\x00ice@exemple.org", ""]
)
def test_register_refuses_invalid_emails(app, email):
    with app.test_request_context(), pytest.raises(Refused):
        services.register("bob", email, PASSWORD)
    assert _user_count(app) == 0


def test_email_key_is_the_lowercased_address(app):
    with app.test_request_context():
        services.register("bob", "Bob.Martin@Exemple.ORG", PASSWORD)
    user = _row(app, "bob")
    assert user.email_key == "bob.martin@exemple.org"


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("court", "au moins 10"),
        ("123456789", "au moins 10"),
        ("motdepasse", "trop courant"),
        ("MotDePasse", "trop courant"),
        ("azertyuiop", "trop courant"),
        ("1234567890", "trop courant"),
        ("aaaaaaaaaaaa", "trop courant"),
        ("jeanmichel42", "pseudo"),
        ("JEANMICHEL42", "pseudo"),
        ("une phrase\x00 de passe", "nul"),
        ("x" * 1025, "dépasser"),
    ],
)
def test_check_password_refuses_weak_passwords(app, password, reason):
    with app.test_request_context(), pytest.raises(Refused) as refused:
        services.check_password(password, "JeanMichel42")
    assert reason in refused.value.message


@pytest.mark.parametrize("length", [10, 64, 128, 200, 1024])
def test_check_password_accepts_long_passwords(app, length):
    password = ("phrase de passe " * 70)[:length]
    with app.test_request_context():
        assert services.check_password(password, "alice") == password


def test_passwords_are_stored_hashed_with_the_configured_method(app):
    make_user(app, "alice")
    user = _row(app, "alice")
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(app.config["FORUM_PASSWORD_HASH"] + "$")


def test_password_hash_method_comes_from_the_configuration(make_app):
    app = make_app(FORUM_PASSWORD_HASH="scrypt")
    make_user(app, "alice")
    assert _row(app, "alice").password_hash.startswith("scrypt:")
    with app.test_request_context():
        assert services.authenticate("alice", PASSWORD) is not None


def test_long_passwords_are_never_truncated(app):
    with app.test_request_context():
        services.register("alice", "alice@exemple.org", LONG_PASSWORD)
        assert services.authenticate("alice", LONG_PASSWORD) is not None
        assert services.authenticate("alice", LONG_PASSWORD[:-1] + "X") is None
        assert services.authenticate("alice", LONG_PASSWORD[:72]) is None


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login", ["alice", "ALICE", "Ａlice", "  alice ", "alice@exemple.org", "Alice@EXEMPLE.org"]
)
def test_authenticate_by_pseudo_or_email_in_any_case(app, login):
    alice = make_user(app, "alice")
    with app.test_request_context():
        user = services.authenticate(login, PASSWORD)
        assert user is not None
        assert user.id == alice.id


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("alice", "pas le bon mot de passe"),
        ("personne", PASSWORD),
        ("personne@exemple.org", PASSWORD),
        ("ali\x00ce", PASSWORD),
        ("alice", PASSWORD + "\x00"),
        ("", PASSWORD),
    ],
)
def test_authenticate_refuses_wrong_pairs_without_raising(app, login, password):
    make_user(app, "alice")
    with app.test_request_context():
        assert services.authenticate(login, password) is None


# --- password change and sessions ------------------------------------------------------------


def test_change_password_rehashes_and_ends_other_sessions(app):
    alice = make_user(app, "alice")
    with app.test_request_context():
        user = db.session.get(User, alice.id)
        services.change_password(user, PASSWORD, "une toute nouvelle phrase")
    stored = _row(app, "alice")
    assert stored.session_version == alice.session_version + 1
    assert stored.password_hash != alice.password_hash
    with app.test_request_context():
        assert services.authenticate("alice", "une toute nouvelle phrase") is not None
        assert services.authenticate("alice", PASSWORD) is None


@pytest.mark.parametrize(
    ("current", "new", "reason"),
    [
        ("pas le bon mot de passe", "une toute nouvelle phrase", "actuel"),
        (PASSWORD + "\x00", "une toute nouvelle phrase", "actuel"),
        (PASSWORD, "court", "au moins 10"),
        (PASSWORD, "azertyuiop", "trop courant"),
    ],
)
def test_change_password_refusals_change_nothing(app, current, new, reason):
    alice = make_user(app, "alice")
    with app.test_request_context():
        user = db.session.get(User, alice.id)
        with pytest.raises(Refused) as refused:
            services.change_password(user, current, new)
        db.session.commit()  # whatever the caller commits next must not carry a change
    assert reason in refused.value.message
    stored = _row(app, "alice")
    assert stored.password_hash == alice.password_hash
    assert stored.session_version == alice.session_version


def test_end_other_sessions_bumps_the_version(app):
    alice = make_user(app, "alice")
    with app.test_request_context():
        user = db.session.get(User, alice.id)
        old_id = user.get_id()
        services.end_other_sessions(user)
        db.session.commit()
        assert user.get_id() != old_id
    assert _row(app, "alice").session_version == alice.session_version + 1


# --- profile and role ------------------------------------------------------------------------


def test_update_profile_stores_trimmed_fields(app):
    alice = make_user(app, "alice")
    with app.test_request_context():
        services.update_profile(
            db.session.get(User, alice.id),
            display_name="  Alice Martin ",
            bio="Militante CFDT.",
            family="syndical",
            organisation="CSE Renault",
            territory="Hauts-de-Seine",
            locale="en",
        )
    stored = _row(app, "alice")
    assert (stored.display_name, stored.bio) == ("Alice Martin", "Militante CFDT.")
    assert (stored.family, stored.organisation, stored.territory, stored.locale) == (
        "syndical",
        "CSE Renault",
        "Hauts-de-Seine",
        "en",
    )
    assert stored.family_label == "Mouvement syndical"


def test_update_profile_empty_family_and_locale_become_null(app):
    alice = make_user(app, "alice", family="ess", locale="fr")
    with app.test_request_context():
        services.update_profile(db.session.get(User, alice.id), family="", locale="")
    stored = _row(app, "alice")
    assert stored.family is None
    assert stored.locale is None


def test_update_profile_refuses_fields_that_are_not_profile_fields(app):
    alice = make_user(app, "alice")
    with app.test_request_context(), pytest.raises(TypeError):
        services.update_profile(db.session.get(User, alice.id), role="admin")
    assert _row(app, "alice").role == "member"


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "patronat"},
        {"locale": "de"},
        {"display_name": "Ali\x00ce"},
        {"display_name": "Alice Martin", "bio": "Une bio\x00"},
        {"display_name": "Alice Martin", "territory": "Lyon\x00"},
    ],
)
def test_update_profile_refusal_changes_nothing(app, fields):
    alice = make_user(app, "alice")
    with app.test_request_context():
        user = db.session.get(User, alice.id)
        with pytest.raises(Refused):
            services.update_profile(user, **fields)
        assert user.display_name == ""
        db.session.commit()  # whatever the caller commits next must not carry a change
    stored = _row(app, "alice")
    assert (stored.display_name, stored.bio, stored.family, stored.territory) == ("", "", None, "")


@pytest.mark.parametrize("role", ["moderator", "admin", Role.MEMBER])
def test_set_role_changes_the_role(app, role):
    alice = make_user(app, "alice", role="moderator" if role == Role.MEMBER else "member")
    with app.test_request_context():
        services.set_role(db.session.get(User, alice.id), role)
    assert _row(app, "alice").role == Role(role).value


def test_set_role_refuses_unknown_roles(app):
    alice = make_user(app, "alice")
    with app.test_request_context(), pytest.raises(ValueError):
        services.set_role(db.session.get(User, alice.id), "superuser")
    assert _row(app, "alice").role == "member"


# --- flask forum create-admin / set-role -----------------------------------------------------


def _is_clean_error(result) -> bool:
    return (
        result.exit_code != 0
        and isinstance(result.exception, SystemExit)
        and "Traceback" not in result.output
        and "Error:" in result.output
    )


def test_create_admin_with_a_password(app, runner):
    result = runner.invoke(
        args=["forum", "create-admin", "cheffe", "cheffe@exemple.org", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "cheffe" in result.output
    assert PASSWORD not in result.output
    user = _row(app, "cheffe")
    assert user.role == "admin"
    assert user.email == "cheffe@exemple.org"
    with app.test_request_context():
        assert services.authenticate("cheffe", PASSWORD) is not None


def test_create_admin_without_password_prints_one_that_works(app, runner, client):
    result = runner.invoke(args=["forum", "create-admin", "cheffe", "cheffe@exemple.org"])
    assert result.exit_code == 0, result.output
    match = re.search(r"Mot de passe : (\S+)", result.output)
    assert match, result.output
    assert _row(app, "cheffe").role == "admin"
    response = client.post_form("/auth/login", {"login": "cheffe", "password": match[1]})
    assert response.status_code == 302
    assert client.get("/settings").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alice", "autre@exemple.org", "--password", PASSWORD], "déjà pris"),
        (["ALICE", "autre@exemple.org", "--password", PASSWORD], "déjà pris"),
        (["cheffe", "alice@exemple.org", "--password", PASSWORD], "adresse e-mail"),
        (["cheffe", "cheffe@exemple.org", "--password", "court"], "au moins 10"),
        (["cheffe", "pas-une-adresse", "--password", PASSWORD], "pas valide"),
        (["c", "cheffe@exemple.org", "--password", PASSWORD], "entre 3 et 30"),
    ],
)
def test_create_admin_bad_input_is_a_clean_error(app, runner, args, message):
    make_user(app, "alice")
    result = runner.invoke(args=["forum", "create-admin", *args])
    assert _is_clean_error(result), result.output
    assert message in result.output
    assert _user_count(app) == 1
    assert _row(app, "alice").role == "member"


@pytest.mark.parametrize("role", ["moderator", "admin", "member"])
def test_set_role_command_changes_the_role(app, runner, role):
    make_user(app, "alice", role="admin" if role == "member" else "member")
    result = runner.invoke(args=["forum", "set-role", "ALICE", role])
    assert result.exit_code == 0, result.output
    assert _row(app, "alice").role == role


def test_set_role_command_unknown_user_is_a_clean_error(app, runner):
    make_user(app, "alice")
    result = runner.invoke(args=["forum", "set-role", "personne", "admin"])
    assert _is_clean_error(result), result.output
    assert "personne" in result.output
    assert _row(app, "alice").role == "member"


def test_set_role_command_unknown_role_is_a_clean_error(app, runner):
    make_user(app, "alice")
    result = runner.invoke(args=["forum", "set-role", "alice", "superuser"])
    assert _is_clean_error(result), result.output
    assert _row(app, "alice").role == "member"
