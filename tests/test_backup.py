"""``flask forum backup`` under write load, then ``restore``: every acknowledged post is back."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from forum import backup as backups
from forum.discussions.models import Post, Thread
from forum.extensions import db
from tests.factories import make_reply, make_thread, make_user


def test_pg_programs_are_found():
    assert backups.pg_program("pg_dump").endswith("pg_dump")
    assert backups.pg_program("pg_restore").endswith("pg_restore")


def test_backup_under_write_load_then_restore_finds_every_acknowledged_post(app, tmp_path):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice, title="Sauvegarder sans s'arrêter")
    acknowledged: list[int] = []  # ids of replies whose request returned: committed
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                acknowledged.append(make_reply(app, alice, thread, body=f"Réponse n°{n}.").id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(acknowledged) < 20 and writer.is_alive():
            threading.Event().wait(0.01)
        before = list(acknowledged)  # acknowledged before the backup started
        dest = tmp_path / "forum.backup"
        result = app.test_cli_runner().invoke(args=["forum", "backup", str(dest)])
        assert result.exit_code == 0, result.output
        during = len(acknowledged)
        while len(acknowledged) < during + 10 and writer.is_alive():
            threading.Event().wait(0.01)
    finally:
        stop.set()
        writer.join(60)
    assert errors == []
    # Written once the copy was made: not in it (the first one may have been committed
    # before the copy and counted after it).
    after_backup = acknowledged[during + 1 :]
    assert len(after_backup) >= 9
    assert dest.is_file() and not dest.with_name("forum.backup.partial").exists()

    result = app.test_cli_runner().invoke(args=["forum", "restore", str(dest)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        restored = set(db.session.execute(select(Post.id)).scalars())
        assert set(before) <= restored  # every post acknowledged before the backup
        assert not set(after_backup) & restored  # the database is the backup's, not today's
        # One snapshot: the thread's counter agrees with its posts.
        replies = db.session.execute(
            select(func.count(Post.id)).where(Post.thread_id == thread.id, Post.depth > 0)
        ).scalar()
        assert db.session.get(Thread, thread.id).reply_count == replies
    # The forum works on the restored database.
    assert app.test_client().get(f"/threads/{thread.id}").status_code in (200, 301, 302)


def test_restore_refuses_what_is_not_a_backup(app, tmp_path):
    junk = tmp_path / "pas-une-sauvegarde"
    junk.write_bytes(b"bonjour")
    result = app.test_cli_runner().invoke(args=["forum", "restore", str(junk)])
    assert result.exit_code != 0
    assert "Error" in result.output
    missing = app.test_cli_runner().invoke(args=["forum", "restore", str(tmp_path / "rien")])
    assert missing.exit_code != 0 and "Aucune sauvegarde" in missing.output


@pytest.mark.parametrize("name", ["pg_dump", "pg_restore"])
def test_pg_bindir_setting_wins(monkeypatch, tmp_path, name):
    program = tmp_path / name
    program.write_text("#!/bin/sh\n")
    monkeypatch.setenv("FORUM_PG_BINDIR", str(tmp_path))
    assert backups.pg_program(name) == str(program)
