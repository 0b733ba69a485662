"""The 500-post thread page with positions and reactions against the same page without them.

``python -m bench.debate``: builds two 500-post threads of the same shape in a fresh SQLite
file (through the services), one without any position or reaction, the other with a
position on every reply and 0 to 3 reactions per post; renders their pages in-process
(the Flask test client, no network) as an anonymous reader and as a member, one after
the other, so that noise on the machine weighs on both alike; compares the medians of
wall time and of the process's CPU time (steadier on a shared machine). The anonymous
page cache is off: the anonymous reader's page is rendered each time, as on a cache
miss. Writes its table to ``bench/RESULTS.md`` (section "debate"). Slowness alone never
fails. ``--instructions`` adds the machine instructions per request of each page, counted by
callgrind (valgrind), which the machine's noise does not move.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
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
#: Requests of each page counted under callgrind (``--instructions``).
COUNTED = 3
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


def count(workdir: str, thread_id: int, viewer: str) -> None:
    """``python -m bench.debate --count DIR THREAD VIEWER``, run under callgrind by
    :func:`instructions`: three requests of the page, counted, after two not counted."""
    app = _app(workdir)
    client = app.test_client()
    if viewer == "membre":
        client.post("/auth/login", data={"login": "membre11", "password": "mot de passe solide"})
    _time(client, f"/threads/{thread_id}", 2)
    gc.collect()
    gc.disable()  # a collection would fall on one page or the other by chance
    pid = str(os.getpid())
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", pid], check=True, capture_output=True)  # noqa: S603
    _time(client, f"/threads/{thread_id}", COUNTED)
    subprocess.run([*switch, "off", pid], check=True, capture_output=True)  # noqa: S603


def instructions(workdir: str, threads: dict[bool, int]) -> list[tuple[str, float, float]]:
    """Machine instructions per request of each page (callgrind), by reader: a measure
    the machine's noise does not move. (reader, without, with) in millions."""
    rows = []
    for viewer in ("anonyme", "membre"):
        counted = {}
        for on, thread_id in threads.items():
            run = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [  # noqa: S607 - valgrind from the PATH
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={workdir}/callgrind.out",
                    sys.executable,
                    "-m",
                    "bench.debate",
                    "--count",
                    workdir,
                    str(thread_id),
                    viewer,
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            found = re.search(r"Collected : (\d+)", run.stderr)
            if found is None:
                raise SystemExit(f"callgrind counted nothing:\n{run.stderr[-2000:]}")
            counted[on] = int(found.group(1)) / COUNTED / 1e6
        rows.append((viewer, counted[False], counted[True]))
    return rows


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
    urls_ids = {False: plain_id, True: debate_id}
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
    if "--instructions" in sys.argv:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
        counted = instructions(workdir, urls_ids)
        table[-1:-1] = [
            "Machine instructions per request (callgrind, `--instructions`: 3 requests of each "
            "page, after 2 not counted; the garbage collector off while counting):",
            "",
            "| reader | without M | with M | ratio |",
            "| --- | ---: | ---: | ---: |",
            *(f"| {v} | {p:.1f} | {d:.1f} | {d / p:.3f} |" for v, p, d in counted),
            "",
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
    if sys.argv[1:2] == ["--count"]:
        count(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    sys.exit(main())
