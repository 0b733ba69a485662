"""Look-alike usernames: mixed scripts refused, TR39 skeletons compared in one look-up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from forum.accounts import lookalike
from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.extensions import db
from forum.refusals import Refused
from tests.factories import PASSWORD, make_user

TAKEN = "déjà pris"
MIXED = "mélange plusieurs alphabets"
MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0010_trust_moderation.py"


def test_skeletons_of_names_that_look_alike_are_equal():
    assert lookalike.skeleton("аlice") == lookalike.skeleton("alice")  # Cyrillic а
    assert lookalike.skeleton("раре") == lookalike.skeleton("pape")  # all Cyrillic
    assert lookalike.skeleton("aIice") == lookalike.skeleton("alice")  # capital i, small L
    assert lookalike.skeleton("rnarie") == lookalike.skeleton("marie")
    assert lookalike.skeleton("Ｍarie") == lookalike.skeleton("marie")  # full-width
    assert lookalike.skeleton("elodie") != lookalike.skeleton("amelie")


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("аlice", True),  # Cyrillic а + Latin
        ("сamille_b", True),  # Cyrillic с + Latin
        ("Ιlona", True),  # Greek Ι + Latin
        ("alice", False),
        ("Élodie-42", False),
        ("Дмитрий", False),
        ("山田たろう", False),  # Han and Hiragana are written together
        ("김민준", False),
    ],
)
def test_mixed_scripts(name, mixed):
    assert lookalike.is_mixed_script(name) is mixed


@pytest.mark.parametrize(
    ("existing", "new", "message"),
    [
        ("alice", "аlice", MIXED),
        ("camille_b", "сamille_b", MIXED),
        ("pape", "раре", TAKEN),  # same look, another script throughout
        ("alice", "aIice", TAKEN),
        ("marie", "rnarie", TAKEN),
        ("alice", "ALICE", TAKEN),
    ],
)
def test_a_name_that_looks_like_an_existing_one_is_refused(app, existing, new, message):
    make_user(app, existing)
    with app.app_context():
        with pytest.raises(Refused, match=message):
            accounts.register(new, "autre@exemple.org", PASSWORD)
        db.session.rollback()
        assert db.session.execute(select(func.count(User.id))).scalar_one() == 1


def test_different_names_in_one_script_each_register(app):
    for name in ("alice", "Дмитрий", "山田たろう", "elodie", "Élodie"):
        make_user(app, name)
    with app.app_context():
        stored = dict(db.session.execute(select(User.username, User.username_skeleton)).all())
    assert stored["alice"] == "alice"
    assert all(stored.values())


def test_register_page_refuses_a_cyrillic_look_alike(app, client):
    make_user(app, "alice")
    data = {
        "username": "аlice",
        "email": "imposteur@exemple.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    response = client.post_form("/auth/register", data)
    assert response.status_code == 400
    assert MIXED in response.get_data(as_text=True)
    data["username"] = "раре"
    make_user(app, "pape")
    response = client.post_form("/auth/register", data)
    assert response.status_code == 400
    assert TAKEN in response.get_data(as_text=True)


def test_the_migration_fills_the_skeleton_of_existing_accounts(app):
    make_user(app, "alice")
    make_user(app, "marie")
    spec = importlib.util.spec_from_file_location("trust_moderation", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        db.session.execute(update(User).values(username_skeleton=""))  # as before the column
        migration.fill_skeletons(db.session.connection())
        db.session.commit()
        stored = dict(db.session.execute(select(User.username, User.username_skeleton)).all())
    assert stored == {"alice": "alice", "marie": "rnarie"}
