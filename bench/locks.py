"""SQLite's write lock, timed: what the tests check in order, measured here in milliseconds.

Two figures, on a fresh migrated SQLite file, in one process:

- **hand-over**: another connection holds the write lock and lets go after 50 ms; how long
  after the release a waiting writer (``forum.db.take_write_lock``, polling every half
  millisecond) has taken it and written;
- **page behind a lock**: a member opens a thread page while another connection holds the
  write lock: the page skips the read position after a short wait
  (``forum.notifications.reading``) instead of the 5-second busy timeout.

    python bench/locks.py [--rounds 20]

``bench/run.py`` prints the same figures under its table. Nothing fails on slowness.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-mot-de-passe-solide"  # noqa: S105 - a local throwaway account
HOLD_S = 0.05


def _app(folder: str):
    os.environ["FORUM_INSTANCE_PATH"] = folder
    from forum import create_app

    return create_app(
        {
            "FORUM_ENV": "testing",
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/forum.sqlite3",
            "FORUM_RATE_LIMITS": "off",
            "WTF_CSRF_ENABLED": False,
        }
    )


def _world(app) -> tuple[int, int]:
    """Migrate, then one member and one thread: (thread id, member id)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from forum.accounts import services as accounts
    from forum.discussions import services as discussions
    from forum.discussions.models import Theme
    from forum.extensions import db

    with app.app_context():
        upgrade()
        member = accounts.register("mesure", "mesure@exemple.org", PASSWORD)
        theme = db.session.execute(select(Theme)).scalars().first()
        thread = discussions.create_thread(
            member, theme, "Un fil pour mesurer", "Un message d'ouverture."
        )
        return thread.id, member.id


def hand_over_ms(app, path: str, rounds: int) -> list[float]:
    """From the release of the lock to the end of the waiting writer's write, per round."""
    from sqlalchemy import text

    from forum.db import reads_first
    from forum.extensions import db

    figures = []
    for _ in range(rounds):
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        released: list[float] = []

        def release(blocker=blocker, released=released) -> None:
            time.sleep(HOLD_S)
            released.append(time.perf_counter())
            blocker.execute("ROLLBACK")

        releaser = threading.Thread(target=release)
        with app.app_context(), reads_first():
            releaser.start()
            db.session.execute(text("UPDATE threads SET reply_count = reply_count"))
            wrote = time.perf_counter()
            db.session.commit()
        releaser.join(timeout=10)
        blocker.close()
        figures.append((wrote - released[0]) * 1000)
    return figures


def page_behind_lock_ms(app, path: str, thread_id: int, rounds: int) -> list[float]:
    """A thread page for a logged-in member while another connection holds the lock."""
    from forum.extensions import db
    from forum.notifications.models import ThreadState

    client = app.test_client()
    response = client.post("/auth/login", data={"login": "mesure", "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login: HTTP {response.status_code}")
    client.get(f"/threads/{thread_id}")  # templates compiled, caches warm
    figures = []
    for _ in range(rounds):
        with app.app_context():  # unread again, so that each view tries to save its position
            db.session.query(ThreadState).delete()
            db.session.commit()
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            started = time.perf_counter()
            response = client.get(f"/threads/{thread_id}")
            figures.append((time.perf_counter() - started) * 1000)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        if response.status_code != 200:
            raise RuntimeError(f"thread page behind a lock: HTTP {response.status_code}")
    return figures


def figures(rounds: int = 20) -> str:
    """The two figures as one Markdown paragraph."""
    with tempfile.TemporaryDirectory(prefix="forum-locks-") as folder:
        app = _app(folder)
        thread_id, _member = _world(app)
        path = f"{folder}/forum.sqlite3"
        hand_over = hand_over_ms(app, path, rounds)
        page = page_behind_lock_ms(app, path, thread_id, rounds)
        from forum.extensions import db

        with app.app_context():
            db.engine.dispose()
    return (
        f"SQLite write lock ({rounds} rounds each): a waiting writer has written "
        f"{statistics.median(hand_over):.1f} ms after the release (p50; max "
        f"{max(hand_over):.1f} ms); a thread page opened behind another writer's lock answers "
        f"in {statistics.median(page):.0f} ms (p50; max {max(page):.0f} ms; busy timeout 5,000 ms)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(figures(args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
