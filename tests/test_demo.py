"""The demo content: data files that hold together, a load that runs once, the same output."""

from __future__ import annotations

from sqlalchemy import func, select

from forum import demo
from forum.accounts.models import Role, User
from forum.discussions.models import Post, Thread
from forum.extensions import db


def test_data_files_refer_to_existing_accounts_themes_and_replies():
    people = demo._load("accounts")
    names = {item["username"] for item in people["users"]}
    assert demo.ADMIN_USERNAME in names
    assert set(people["passwords"]) == {role.value for role in Role}
    for slug in demo.THREAD_THEMES:
        for thread in demo._load(f"threads-{slug}")["threads"]:
            assert thread["author"] in names
            for n, answer in enumerate(thread.get("replies", []), 1):
                assert answer["author"] in names
                assert 0 <= answer["parent"] < n  # the opening post or an earlier reply
    seminar = demo._load("seminar")
    assert set(seminar["registrations"]["members"]) <= names
    assert seminar["preparation"]["author"] in names


def test_seed_demo_prints_the_accounts_once_and_is_idempotent(app, runner):
    first = runner.invoke(args=["forum", "seed-demo"])
    second = runner.invoke(args=["forum", "seed-demo"])

    assert first.exit_code == second.exit_code == 0
    people = demo._load("accounts")
    lines = first.output.splitlines()
    assert lines[0] == "Contenu de démonstration chargé. Comptes (usage local uniquement) :"
    assert lines[1] == "  coordination-rs    demo-admin-2026          admin"
    assert len(lines) == 1 + len(people["users"])
    assert second.output == "Le contenu de démonstration est déjà chargé.\n"
    threads = sum(len(demo._load(f"threads-{s}")["threads"]) for s in demo.THREAD_THEMES)
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(User)).scalar_one()
        assert count == len(people["users"])
        # The themes' threads, plus the seminar's préparation and suite.
        assert db.session.execute(select(func.count()).select_from(Thread)).scalar_one() == (
            threads + 2
        )
        bios = db.session.execute(select(User.bio).where(User.bio != "")).scalars().all()
        assert all("\n" not in bio.split("\n\n")[0] for bio in bios)  # paragraphs unwrapped
        assert db.session.execute(select(func.count()).select_from(Post)).scalar_one() > threads
