"""The 500-post thread page with positions and reactions against the same page without them.

``python -m bench.debate``: builds two 500-post threads of the same shape in a fresh SQLite
file (through the services), one without any position or reaction, the other with a
position on every reply and 0 to 3 reactions per post; renders their pages in-process
(the Flask test client, no network) as an anonymous reader and as a member, one after
the other, so that noise on the machine weighs on both alike; compares the medians of
wall time and of the process's CPU time (steadier on a shared machine). The anonymous
page cache is off: the anonymous reader's page is rendered each time, as on a cache
miss. Writes its table to ``bench/RESULTS.md`` (section "debate"). Slowness alone never
fails.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
POSTS = 500
ROUNDS = 30
START, END = "<!-- debate -->", "<!-- /debate -->"


def _build(app, title: str = "Un long débat"):
    from forum.accounts import services as accounts
    from forum.accounts.models import Role, User
    from forum.discussions import services as discussions
    from forum.discussions.models import Post, Theme
    from forum.extensions import db

    with app.app_context():
        if title == "Un long débat":
            upgrade()
        users = list(db.session.execute(select(User).order_by(User.id)).scalars()) or [
            accounts.register(f"membre{n}", f"membre{n}@exemple.org", "mot de passe solide",
                              role=Role.MEMBER)
            for n in range(12)
        ]  # fmt: skip
        theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        thread = discussions.create_thread(users[0], theme, title, "Ouvrons le débat.")
        posts = []
        for n in range(POSTS - 1):
            parent = posts[n // 4] if n >= 4 else None
            post = discussions.reply(
                users[1 + n % 11], thread, f"Argument n°{n} : **oui**, mais.", parent
            )
            posts.append(post)
        return thread.id, [p.id for p in posts], [u.id for u in users], Post


def _set_debate(app, post_ids, user_ids, on: bool) -> None:
    from forum.debate.models import Reaction
    from forum.debate.services import refresh_reaction_summaries
    from forum.discussions.models import Post
    from forum.extensions import db

    with app.app_context():
        if on:
            codes = ("pour", "contre", "nuance", "question")
            for n, post_id in enumerate(post_ids):
                db.session.execute(
                    update(Post).where(Post.id == post_id).values(position=codes[n % 4])
                )
            rows = [
                {"post_id": post_id, "user_id": user_ids[(n + k) % len(user_ids)],
                 "kind": ("d_accord", "merci", "bien_vu")[k]}
                for n, post_id in enumerate(post_ids)
                for k in range(n % 4 + 1 if n % 4 < 3 else 0)
            ]  # fmt: skip
            db.session.execute(insert(Reaction), rows)
            refresh_reaction_summaries(post_ids)
        db.session.commit()


def _time(client, url: str, rounds: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of each of ``rounds`` requests."""
    times = []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
        assert response.status_code == 200
    return times


def _app(workdir: str):
    from forum import create_app

    os.environ["FORUM_INSTANCE_PATH"] = workdir
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3",
            "SECRET_KEY": "bench-debate-secret-key-long-enough-0123456789",
            "FORUM_RATE_LIMITS": "off",
            "WTF_CSRF_ENABLED": False,
            "FORUM_PAGE_CACHE_SECONDS": 0,
        }
    )


def build(workdir: str) -> None:
    """``python -m bench.debate --build DIR``: the two threads, their ids on stdout."""
    app = _app(workdir)
    plain_id, _ids, _users, _post = _build(app)
    debate_id, post_ids, user_ids, _post = _build(app, "Un long débat argumenté")
    _set_debate(app, post_ids, user_ids, True)
    from forum.extensions import db

    with app.app_context():
        # The last writes (the debate's) would otherwise be read from the write-ahead log,
        # the other thread's from the database file: both from the file, as on a server
        # running for a while.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    print(json.dumps([plain_id, debate_id]))


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="forum-bench-debate-")
    # Built by another process: the one measuring starts as a fresh worker would, without
    # the thousand posts' worth of objects that writing them leaves behind.
    built = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "bench.debate", "--build", workdir],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    plain_id, debate_id = json.loads(built.stdout.strip().splitlines()[-1])
    app = _app(workdir)
    urls = {False: f"/threads/{plain_id}", True: f"/threads/{debate_id}"}
    rows = []
    for viewer in ("anonyme", "membre"):
        client = app.test_client()
        if viewer == "membre":
            client.post(
                "/auth/login", data={"login": "membre11", "password": "mot de passe solide"}
            )
        samples = {False: [], True: []}
        for on in (False, True):
            _time(client, urls[on], 2)  # warm up
        for round_ in range(ROUNDS):
            for on in (False, True) if round_ % 2 else (True, False):
                samples[on] += _time(client, urls[on], 1)
        plain, debate = (statistics.median(t for t, _ in samples[k]) for k in (False, True))
        plain_cpu, debate_cpu = (statistics.median(c for _, c in samples[k]) for k in (False, True))
        rows.append(
            (viewer, plain, debate, debate / plain, plain_cpu, debate_cpu, debate_cpu / plain_cpu)
        )
    table = [
        f"{START}",
        "### Thread of 500 posts: with positions and reactions vs without (SQLite, in-process)",
        "",
        f"`python -m bench.debate` on {time.strftime('%Y-%m-%d')}: median render time of the "
        "whole page (one page of 500 posts), positions on every reply, 0 to 3 reactions per "
        f"post; {ROUNDS} alternating requests of each page per reader, the page cache off.",
        "",
        "| reader | without ms | with ms | ratio | without CPU ms | with CPU ms | CPU ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {v} | {p:.1f} | {d:.1f} | {r:.2f} | {pc:.1f} | {dc:.1f} | {rc:.2f} |"
            for v, p, d, r, pc, dc, rc in rows
        ),
        "",
        f"{END}",
    ]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + "\n".join(table) + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(table) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
