"""``make bench`` (SIZE=S|M|L): build or reuse a data set, serve it with gunicorn, measure.

For each database (SQLite always, PostgreSQL when ``FORUM_BENCH_DATABASE_URL`` is set):

1. the data set of the size (``flask forum bench-data``), built once under ``bench/data/``
   and reused; each run works on a copy of the SQLite file, so writes never pile up;
2. a query census: one gunicorn worker with ``FORUM_QUERY_COUNT_HEADER=1``, one request
   per page, the ``X-Query-Count`` header read back (member pages: by a client logged
   in through the form, which must be offered the reply form and reaction buttons);
3. the real server (gunicorn, 2 sync workers, production settings) and the render
   ceiling (``bench/ceiling.py``, same gunicorn settings), loaded in turn, page type by
   page type, by ``bench/loadgen.py`` in a second process — anonymous pages, then the
   500-post thread read by a plain member (one of the writers, every client logged in
   through the form, on both sides: the ceiling has its own member capture); then one
   client alone on each page (the "p50 alone" latency, without the queue of the loaded
   runs); for sizes
   M and L, the 50-post thread against the size-S data set, slices alternated (page
   speed independent of the forum's size);
4. the write mix: 20 members logged in through the form post replies; acknowledged
   replies are then looked up in the database;
5. private conversations: a conversation page of 200 messages read by a participant,
   and a "send a message" write mix (the 20 members in pairs, each pair its own
   conversation), acknowledged messages looked up likewise;
6. SQLite's write lock, timed by ``bench/locks.py`` (hand-over to a waiting writer, a
   thread page behind another writer's lock).

Prints one table and writes it to ``bench/RESULTS.md`` (one section per size). Exits 1 on
any error or lost reply; slowness alone never fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import bindparam, create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "RESULTS.md"
#: posts, seconds of load per page type.
SIZES = {"S": (10_000, 3.0), "M": (100_000, 8.0), "L": (1_000_000, 8.0)}
CONCURRENCY = 8
#: The load of a page alternates between our server and the ceiling in this many slices,
#: so that a burst of noise on the machine weighs on both sides of the ratio.
SLICES = 4
WRITERS = 20
PASSWORD = "bench-mot-de-passe-solide"  # noqa: S105 - forum.bench.PASSWORD, local accounts
SEARCHES = (
    "logement",
    "coopérative énergie",
    "syndicat santé",
    '"économie sociale"',
    "mirabae",
    "transport -mobilité",
    "comité d'entreprise",
    "Brest",
)
PAGE_LABELS = {
    "home": "accueil",
    "theme": "thème, page 1",
    "theme_deep": "thème, dernière page",
    "thread_50": "fil de 50 messages",
    "thread_500": "fil de 500 messages",
    "thread_500_member": "fil de 500 messages, membre",
    "thread_500_cached": "fil de 500 messages, anonyme, en cache",
    "thread_2000": "fil de 2 000 messages (p. 1)",
    "branch": "branche",
    "search": "recherche",
    "profile": "profil",
    "feed": "flux Atom",
    "conversation_200": "conversation de 200 messages",
}
#: Messages of the conversation page measured.
CONVERSATION_MESSAGES = 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def flask_env(database_url: str, instance: Path) -> dict:
    env = dict(os.environ)
    env.update(
        FLASK_APP="wsgi",
        FORUM_DATABASE_URL=database_url,
        FORUM_INSTANCE_PATH=str(instance),
        FORUM_ENV="development",
    )
    return env


def flask(args: list[str], env: dict) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def build(database_url: str, instance: Path, posts: int) -> dict:
    env = flask_env(database_url, instance)
    started = time.perf_counter()
    flask(["db", "upgrade"], env)
    output = flask(["forum", "bench-data", "--posts", str(posts)], env)
    return {"posts": posts, "seconds": round(time.perf_counter() - started, 1), "output": output}


def sqlite_data(size: str) -> tuple[str, dict]:
    """The SQLite data set of ``size`` (built on first use), copied for this run."""
    folder = DATA / size
    pristine, info_file = folder / "forum.sqlite3", folder / "build.json"
    if not pristine.exists() or not info_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        building = folder / "building.sqlite3"
        for stale in folder.glob("building.sqlite3*"):
            stale.unlink()
        log(f"[{size}] building the SQLite data set ({SIZES[size][0]:,} posts)…")
        info = build(f"sqlite:///{building}", folder / "instance", SIZES[size][0])
        building.rename(pristine)
        info_file.write_text(json.dumps(info))
    info = json.loads(info_file.read_text())
    work = folder / "run.sqlite3"
    for stale in folder.glob("run.sqlite3*"):
        stale.unlink()
    shutil.copyfile(pristine, work)
    # A data set built before a newer migration gets it (an index, say) on the copy.
    flask(["db", "upgrade"], flask_env(f"sqlite:///{work}", folder / "instance"))
    return f"sqlite:///{work}", info


def postgres_data(size: str, url: str) -> tuple[str, dict]:
    """The PostgreSQL data set of ``size``, copied for this run.

    The database of ``url`` keeps the data set as built (rebuilt when it holds another
    one); each run measures on a copy, ``<database>_run``, made from it as a template
    (``CREATE DATABASE … TEMPLATE``, hence the role's CREATEDB). Without the copy, the
    replies of each run stayed: threads gained watchers and each reply notified more
    members, run after run, until no quiet thread was left to write in.
    """
    marker = DATA / size / "postgresql.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    if marker.exists() and json.loads(marker.read_text()).get("url") == url:
        flask(["db", "upgrade"], flask_env(url, DATA / size / "instance"))
        info = json.loads(marker.read_text())
    else:
        log(f"[{size}] building the PostgreSQL data set ({SIZES[size][0]:,} posts)…")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        info = build(url, DATA / size / "instance", SIZES[size][0])
        info["url"] = url
        marker.write_text(json.dumps(info))
    return postgres_copy(url), info


def data_set(size: str, postgresql: str | None) -> str:
    """The URL of a fresh copy of the data set of ``size``: on PostgreSQL (the database
    of ``postgresql``) when given, else on SQLite."""
    if postgresql:
        return postgres_data(size, postgresql)[0]
    return sqlite_data(size)[0]


def served_environment(url: str, instance: Path) -> dict[str, str]:
    """The settings the benchmark serves the forum with."""
    return {
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": secrets.token_urlsafe(48),
        "FORUM_DATABASE_URL": url,
        "FORUM_INSTANCE_PATH": str(instance),
        "FORUM_RATE_LIMITS": "off",
        # Pages rendered live, unless a measure asks for the anonymous page cache.
        "FORUM_PAGE_CACHE_SECONDS": "0",
    }


def postgres_copy(url: str) -> str:
    """A fresh copy of the database of ``url`` (no session may be open on it): its URL."""
    source = make_url(url)
    copy = source.set(database=f"{source.database}_run")
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{copy.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{copy.database}" TEMPLATE "{source.database}"'))
    admin.dispose()
    return copy.render_as_string(hide_password=False)


def manifest(url: str) -> dict:
    """The paths to load, chosen in the data set: long threads, a deep page, a branch…"""
    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql: str, **params):
            return conn.execute(text(sql), params).one()

        def thread_near(replies: int) -> int:
            return one(
                "SELECT id FROM threads ORDER BY abs(reply_count - :n), id LIMIT 1", n=replies
            ).id

        theme = one("SELECT slug, thread_count FROM themes ORDER BY thread_count DESC LIMIT 1")
        long_thread = thread_near(1999)
        threads = {n: thread_near(n - 1) for n in (50, 500)}
        branch = conn.execute(
            text(
                "SELECT thread_id, id FROM posts WHERE depth = 6 AND child_count > 0 "
                "ORDER BY thread_id = :t DESC, id LIMIT 1"
            ),
            {"t": long_thread},
        ).one()
        author = one("SELECT username FROM users ORDER BY post_count DESC, id LIMIT 1").username
        writers = [
            row.username
            for row in conn.execute(
                text(
                    "SELECT username FROM users WHERE username LIKE 'lecteur%' ORDER BY id LIMIT :n"
                ),
                {"n": WRITERS},
            )
        ]
        # A plain member among the writers, not the thread's author: they may reply,
        # react, and choose a position (the form an author does not get).
        member = conn.execute(
            text(
                "SELECT username FROM users WHERE username IN :names AND role = 'member' "
                "AND silenced_until IS NULL AND suspended_until IS NULL "
                "AND id <> (SELECT author_id FROM threads WHERE id = :t) ORDER BY id LIMIT 1"
            ).bindparams(bindparam("names", expanding=True)),
            {"names": writers, "t": threads[500]},
        ).scalar_one()
        quiet = [
            row.id
            for row in conn.execute(
                text(
                    "SELECT id FROM threads WHERE reply_count BETWEEN 1 AND 30 ORDER BY id LIMIT 200"
                )
            )
        ]
    engine.dispose()
    last_page = max(1, -(-theme.thread_count // 30))
    return {
        "pages": {
            "home": ["/"],
            "theme": [f"/themes/{theme.slug}"],
            "theme_deep": [f"/themes/{theme.slug}?page={last_page}"],
            "thread_50": [f"/threads/{threads[50]}"],
            "thread_500": [f"/threads/{threads[500]}"],
            "thread_2000": [f"/threads/{long_thread}"],
            "branch": [f"/threads/{branch.thread_id}/branch/{branch.id}"],
            "search": [f"/search?q={quote(q)}" for q in SEARCHES],
            "profile": [f"/users/{author}"],
            "feed": ["/feeds/latest.atom", f"/feeds/themes/{theme.slug}.atom"],
        },
        # Pages read by a logged-in member (ours and the ceiling's clients log in).
        "member_pages": {
            "thread_500_member": {"paths": [f"/threads/{threads[500]}"], "user": member},
        },
        "writers": writers,
        "write_threads": quiet,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn on loopback, as production runs it."""

    def __init__(self, target: str, url: str, instance: Path, workers: int = 2, **env) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ) | served_environment(url, instance) | env
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                target,
            ],
            cwd=ROOT,
            env=environment,
            # One access-log line per request: kept out of the figures' output.
            stderr=(DATA / f"server-{self.port}.log").open("w"),
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5):  # noqa: S310
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"gunicorn {target} did not start") from None
                time.sleep(0.2)

    def get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=120) as response:  # noqa: S310
            response.read()
            return response

    def peak_rss_mb(self) -> list[float]:
        """VmHWM of each worker (children of the gunicorn master), in MB."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        peaks = []
        for child in children:
            status = Path(f"/proc/{child}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return peaks

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(job: dict) -> dict:
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "loadgen.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def merge(results: list[dict]) -> dict:
    """One result from the slices of a page's load."""
    times = sorted(t for r in results for t in r["times"])
    requests = sum(r["requests"] for r in results)

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))] if times else 0.0

    return {
        "requests": requests,
        "rps": requests / sum(r["elapsed"] for r in results),
        "p50": pct(0.50),
        "p99": pct(0.99),
        "bytes": sum(r["bytes"] * r["requests"] for r in results) / max(requests, 1),
        "errors": sum(r["errors"] for r in results),
        "error_samples": [e for r in results for e in r["error_samples"]][:5],
    }


def add_conversations(url: str, writers: list[str]) -> dict:
    """Private conversations for the benchmark, written in SQL into this run's database.

    One conversation of :data:`CONVERSATION_MESSAGES` messages between the first two
    writers (the page read), and one conversation per pair of writers (the write mix).
    Returns the page's path, its reader and each writer's conversation.
    """
    engine = create_engine(url)
    body = "<p>Un message de la conversation : le <strong>CSE</strong> et la coopérative.</p>"
    with engine.begin() as conn:
        ids = {
            row.username: row.id
            for row in conn.execute(
                text("SELECT id, username FROM users WHERE username IN :names").bindparams(
                    bindparam("names", expanding=True)
                ),
                {"names": writers},
            )
        }
        now = conn.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()

        def conversation(subject: str, members: list[str], messages: int) -> int:
            cid = conn.execute(
                text(
                    "INSERT INTO conversations (subject, starter_id, message_count, "
                    "last_message_at, last_message_id, created_at) "
                    "VALUES (:s, :u, :n, :t, 0, :t) RETURNING id"
                ),
                {"s": subject, "u": ids[members[0]], "n": messages, "t": now},
            ).scalar_one()
            if messages:
                conn.execute(
                    text(
                        "INSERT INTO conversation_messages (conversation_id, author_id, kind, "
                        "body_source, body_html, render_version, edit_count, created_at) "
                        "VALUES (:c, :a, 'message', :src, :html, 2, 0, :t)"
                    ),
                    [
                        {"c": cid, "a": ids[members[n % len(members)]], "src": f"Message {n}",
                         "html": body, "t": now}
                        for n in range(messages)
                    ],
                )  # fmt: skip
            conn.execute(
                text(
                    "UPDATE conversations SET last_message_id = coalesce("
                    "(SELECT max(id) FROM conversation_messages WHERE conversation_id = :c), 0) "
                    "WHERE id = :c"
                ),
                {"c": cid},
            )
            conn.execute(
                text(
                    "INSERT INTO conversation_participants (conversation_id, user_id, "
                    "joined_at, muted, last_read_message_id, counted) "
                    "VALUES (:c, :u, :t, false, 0, false)"
                ),
                [{"c": cid, "u": ids[name], "t": now} for name in members],
            )
            return cid

        page = conversation("Banc d'essai : une longue conversation", writers[:2],
                            CONVERSATION_MESSAGES)  # fmt: skip
        pairs: list[list[int]] = []
        for n in range(0, len(writers) - 1, 2):
            cid = conversation(f"Banc d'essai : paire {n // 2}", writers[n : n + 2], 0)
            pairs += [[cid], [cid]]
    engine.dispose()
    return {"path": f"/messages/{page}", "reader": writers[0], "targets": pairs}


def _member_get(server: Server, path: str, user: str, times: int = 2):
    """``path`` read ``times`` times by ``user``, logged in through the form: the last
    response's headers and page (the first reading moves the member's read position)."""
    import http.cookiejar

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):  # the ceiling serves only its pages
            return None

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Stay()
    )
    page = opener.open(server.base + "/auth/login", timeout=60).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urlencode({"login": user, "password": PASSWORD, "csrf_token": token}).encode()
    try:
        opener.open(server.base + "/auth/login", data=form, timeout=60).read()
        raise SystemExit(f"{user} could not log in: the form came back")
    except urllib.error.HTTPError as done:  # 302, not followed
        if done.code != 302:
            raise
    for _time in range(times - 1):
        opener.open(server.base + path, timeout=60).read()
    with opener.open(server.base + path, timeout=60) as response:
        return response.headers, response.read().decode()


def _logged_in_count(server: Server, path: str, user: str) -> int:
    """The X-Query-Count of ``path`` read by ``user``, logged in through the form."""
    return int(_member_get(server, path, user)[0]["X-Query-Count"])


def _member_thread_count(server: Server, path: str, user: str) -> int:
    """The X-Query-Count of a thread page read by ``user``, who must be able to take part:
    the page must show them the reply form and the reaction buttons."""
    headers, page = _member_get(server, path, user)
    thread_id = path.rsplit("/", 1)[1]
    if f'action="/threads/{thread_id}/reply"' not in page or "reaction-button" not in page:
        raise SystemExit(f"{user} may not reply or react on {path}: not a member's page")
    return int(headers["X-Query-Count"])


#: What differs between two readings of one page: CSRF tokens, relative times.
_VARYING = re.compile(r'(name="csrf_token" value=")[^"]*"|(<time [^>]*>)[^<]*</time>')


def _markup_differences(ours: str, ceiling: str) -> int:
    """Lines of ``ours`` and ``ceiling`` that differ, tokens and relative times aside."""

    def lines(page: str) -> list[str]:
        return _VARYING.sub(lambda m: (m.group(1) or m.group(2)) + "…", page).splitlines()

    a, b = lines(ours), lines(ceiling)
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


def query_census(url: str, instance: Path, pages: dict, member_pages: dict) -> dict[str, int]:
    server = Server("wsgi:app", url, instance, workers=1, FORUM_QUERY_COUNT_HEADER="1")
    try:
        counts = {}
        for kind, paths in pages.items():
            if kind == "conversation_200":
                counts[kind] = _logged_in_count(server, paths[0], paths[1])
                continue
            counts[kind] = max(int(server.get(p).headers["X-Query-Count"]) for p in paths)
        for kind, spec in member_pages.items():
            counts[kind] = max(
                _member_thread_count(server, path, spec["user"]) for path in spec["paths"]
            )
        return counts
    finally:
        server.stop()


def compare_sizes(ours: Server, path: str, small_url: str, small_path: str, seconds: float):
    """The same page under the same load, slices alternated between two data-set sizes."""
    small = Server("wsgi:app", small_url, DATA / "instance")
    try:
        job = {"mode": "read", "seconds": seconds / SLICES, "concurrency": CONCURRENCY}
        sides = ((ours, path), (small, small_path))
        for server, page in sides:
            server.get(page)
        slices: list[list] = [[], []]
        for _slice in range(SLICES):
            for n, (server, page) in enumerate(sides):
                slices[n].append(load({**job, "base": server.base, "paths": [page]}))
        merged = [merge(side) for side in slices]
        for (server, page), result in zip(sides, merged, strict=True):
            alone = load({**job, "base": server.base, "paths": [page], "concurrency": 1})
            result["p50_alone"] = alone["p50"]
        return merged
    finally:
        small.stop()


def cached_page(url: str, instance: Path, ceiling: Server, paths: list[str], seconds: float):
    """An anonymous page from the page cache (memory, per worker) against the ceiling.

    The same load, slices alternated between a server with the page cache on and the
    ceiling; each cached request still reads the page's version in the database.
    """
    cached = Server("wsgi:app", url, instance, FORUM_PAGE_CACHE_SECONDS="300")
    try:
        for _worker in range(4):  # each worker keeps its own copy
            for path in paths:
                cached.get(path)
                ceiling.get(path)
        job = {
            "mode": "read",
            "paths": paths,
            "seconds": seconds / SLICES,
            "concurrency": CONCURRENCY,
        }
        sides: dict[str, list] = {"cached": [], "ceiling": []}
        for _slice in range(SLICES):
            sides["cached"].append(load({**job, "base": cached.base}))
            sides["ceiling"].append(load({**job, "base": ceiling.base}))
        result = merge(sides["cached"])
        top = merge(sides["ceiling"])
        result["p50_alone"] = load({**job, "base": cached.base, "concurrency": 1})["p50"]
        result["ceiling"] = top["rps"]
        result["queries"] = 1  # the page's version (pinned in tests/test_page_budgets.py)
        result["error_samples"] += top["error_samples"]
        log(
            f"cached 500-post thread: {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms, "
            f"ceiling {top['rps']:.1f} req/s"
        )
        return result
    finally:
        cached.stop()


def measure(
    kind: str, url: str, data: dict, seconds: float, small: tuple[str, dict] | None = None
) -> dict:
    instance = DATA / "instance"
    manifest_file = DATA / f"manifest-{kind}.json"
    pages = data["pages"]
    manifest_file.write_text(json.dumps(data))
    private = add_conversations(url, data["writers"])
    log(f"[{kind}] query census…")
    queries = query_census(
        url,
        instance,
        {**pages, "conversation_200": [private["path"], private["reader"]]},
        data["member_pages"],
    )
    ours = Server("wsgi:app", url, instance)
    try:
        ceiling = Server(
            "bench.ceiling:app", url, instance, FORUM_BENCH_MANIFEST=str(manifest_file)
        )
    except BaseException:
        ours.stop()
        raise
    rows, failures = {}, []
    # Anonymous pages, then the pages a member reads (each client logged in on both sides).
    loads = [(page, paths, None) for page, paths in pages.items()]
    loads += [(page, s["paths"], s["user"]) for page, s in data["member_pages"].items()]
    try:
        for page, paths, user in loads:
            has_ceiling = page != "feed"
            for server in (ours, ceiling) if has_ceiling else (ours,):
                for path in paths:  # warm: caches, first-request set-up
                    if user is None:
                        server.get(path)
            for path in paths if user is not None else ():
                # The ceiling must serve the member the page our server serves them.
                differences = _markup_differences(
                    _member_get(ours, path, user, times=1)[1],
                    _member_get(ceiling, path, user, times=1)[1],
                )
                if differences:
                    failures.append(f"{page}: the ceiling's page differs ({differences} lines)")
                same = "no" if differences else "yes"
                log(f"[{kind}] {page}: {path} for {user}, the ceiling's markup is ours: {same}")
            job = {
                "mode": "read",
                "paths": paths,
                "seconds": seconds / SLICES,
                "concurrency": CONCURRENCY,
            }
            if user is not None:
                job["login"] = [user, PASSWORD]
            slices: dict[str, list] = {"ours": [], "ceiling": []}
            for _slice in range(SLICES):
                slices["ours"].append(load({**job, "base": ours.base}))
                if has_ceiling:
                    slices["ceiling"].append(load({**job, "base": ceiling.base}))
            result = merge(slices["ours"])
            # Latency as one reader sees it, without the queue of the loaded runs.
            alone = load({**job, "base": ours.base, "concurrency": 1})
            result["p50_alone"] = alone["p50"]
            top = merge(slices["ceiling"]) if has_ceiling else None
            result["ceiling"] = top["rps"] if top else None
            result["queries"] = queries[page]
            rows[page] = result
            failures += result["error_samples"] + (top["error_samples"] if top else [])
            log(
                f"[{kind}] {page}: {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms"
                + (f", ceiling {top['rps']:.1f} req/s" if top else "")
            )
        rows["thread_500_cached"] = cached_page(
            url, instance, ceiling, pages["thread_500"], seconds
        )
        failures += rows["thread_500_cached"].pop("error_samples")
        ceiling.stop()
        rows["conversation_200"] = _private_page(ours, private, seconds, queries)
        failures += rows["conversation_200"]["error_samples"]
        comparison = None
        if small is not None:
            log(f"[{kind}] 50-post thread against the {SIZES['S'][0]:,}-post data set…")
            comparison = compare_sizes(
                ours,
                pages["thread_50"][0],
                small[0],
                small[1]["pages"]["thread_50"][0],
                seconds,
            )
        log(f"[{kind}] write mix: {WRITERS} writers…")
        writes = load(
            {
                "mode": "write",
                "base": ours.base,
                "seconds": seconds,
                "users": data["writers"],
                "password": PASSWORD,
                "threads": data["write_threads"],
            }
        )
        log(f"[{kind}] message write mix: {WRITERS} writers…")
        message_writes = load(
            {
                "mode": "write",
                "base": ours.base,
                "seconds": seconds,
                "users": data["writers"],
                "password": PASSWORD,
                "threads": data["write_threads"],
                "conversations": private["targets"],
            }
        )
        rss = ours.peak_rss_mb()
    finally:
        ours.stop()
        ceiling.stop()
    acked = writes.pop("acked")
    sent = message_writes.pop("acked")
    engine = create_engine(url)
    with engine.connect() as conn:
        stored_messages = conn.execute(
            text("SELECT count(*) FROM conversation_messages WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": sent or [0]},
        ).scalar_one()
        stored = 0
        for start in range(0, len(acked), 500):
            chunk = acked[start : start + 500]
            stored += conn.execute(
                text(f"SELECT count(*) FROM posts WHERE id IN ({','.join(map(str, chunk))})")  # noqa: S608
            ).scalar_one()
        server_version = conn.execute(
            text("SELECT sqlite_version()" if kind == "sqlite" else "SHOW server_version")
        ).scalar_one()
    engine.dispose()
    writes["acknowledged"], writes["lost"] = len(acked), len(acked) - stored
    failures += writes["error_samples"]
    if writes["lost"]:
        failures.append(f"{writes['lost']} acknowledged replies not stored")
    message_writes["acknowledged"] = len(sent)
    message_writes["lost"] = len(sent) - stored_messages
    failures += message_writes["error_samples"]
    if message_writes["lost"]:
        failures.append(f"{message_writes['lost']} acknowledged messages not stored")
    return {
        "rows": rows,
        "sizes": comparison,
        "writes": writes,
        "message_writes": message_writes,
        "rss": rss,
        "failures": failures,
        "version": server_version,
    }


def _private_page(ours: Server, private: dict, seconds: float, queries: dict) -> dict:
    """The conversation page under load, read by one of its participants (no ceiling)."""
    job = {
        "mode": "read",
        "paths": [private["path"]],
        "seconds": seconds,
        "concurrency": CONCURRENCY,
        "login": [private["reader"], PASSWORD],
        "base": ours.base,
    }
    result = merge([load(job)])
    result["p50_alone"] = load({**job, "concurrency": 1})["p50"]
    result["ceiling"] = None
    result["queries"] = queries["conversation_200"]
    log(f"conversation_200: {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms")
    return result


def table(size: str, results: dict[str, dict], builds: dict[str, dict]) -> str:
    lines = []
    for kind, result in results.items():
        build = builds[kind]
        lines += [
            f"### {kind} — {build['posts']:,} posts (data set built in {build['seconds']} s)",
            "",
            "| page | req/s | p50 ms | p99 ms | p50 alone ms | ceiling req/s | efficiency "
            "| queries | KB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for page, row in result["rows"].items():
            ceiling = row["ceiling"]
            top = f"{ceiling:.1f}" if ceiling else "—"
            efficiency = f"{row['rps'] / ceiling:.2f}" if ceiling else "—"
            lines.append(
                f"| {PAGE_LABELS[page]} | {row['rps']:.1f} | {row['p50']:.1f} | {row['p99']:.1f} "
                f"| {row['p50_alone']:.1f} | {top} | {efficiency} | {row['queries']} | {row['bytes'] / 1024:.1f} |"
            )
        w = result["writes"]
        if result.get("sizes"):
            big, small = result["sizes"]
            lines += [
                "",
                f"Size independence, 50-post thread, the same load alternated between this data "
                f"set and the {SIZES['S'][0]:,}-post one: {big['rps']:.1f} vs {small['rps']:.1f} "
                f"req/s (ratio {big['rps'] / small['rps']:.2f}); p50 alone {big['p50_alone']:.1f} "
                f"vs {small['p50_alone']:.1f} ms.",
            ]
        lines += [
            "",
            f"Writes ({WRITERS} concurrent writers): {w['rps']:.1f} replies/s, "
            f"p50 {w['p50']:.1f} ms, p99 {w['p99']:.1f} ms, errors {w['errors']}, "
            f"acknowledged {w['acknowledged']}, lost {w['lost']}.",
            "",
        ]
        m = result.get("message_writes")
        if m:
            lines += [
                f"Private messages ({WRITERS} concurrent writers, in pairs): {m['rps']:.1f} "
                f"messages/s, p50 {m['p50']:.1f} ms, p99 {m['p99']:.1f} ms, errors "
                f"{m['errors']}, acknowledged {m['acknowledged']}, lost {m['lost']}.",
                "",
            ]
        lines += [
            "Peak RSS per worker: " + ", ".join(f"{mb:.0f} MB" for mb in result["rss"]) + ".",
            "",
        ]
    return "\n".join(lines)


def machine(results: dict[str, dict]) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    versions = [
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        *(f"PostgreSQL {r['version']}" for k, r in results.items() if k == "postgresql"),
        f"Flask {version('flask')}",
        f"SQLAlchemy {version('sqlalchemy')}",
        f"gunicorn {version('gunicorn')}",
    ]
    return (
        f"Machine: {os.cpu_count()} CPU ({cpu}), "
        f"{int(mem.group(1)) // 1024 if mem else '?'} MB of memory. "
        + ", ".join(versions)
        + f". gunicorn 2 sync workers; {CONCURRENCY} concurrent clients in a second process "
        "on loopback; ceiling = the same templates rendered from objects held in memory."
    )


def write_results(size: str, section: str) -> None:
    begin, end = f"<!-- size {size} -->", f"<!-- /size {size} -->"
    current = RESULTS.read_text() if RESULTS.exists() else ""
    if not current:
        current = (
            "# Benchmark results\n\n"
            "Written by `make bench` (`bench/run.py`); one section per data-set size.\n\n"
        )
    block = f"{begin}\n{section}\n{end}"
    if begin in current:
        current = re.sub(
            re.escape(begin) + ".*?" + re.escape(end), lambda _m: block, current, flags=re.S
        )
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(current)


def lock_figures() -> tuple[str, bool]:
    """SQLite's write lock timed by ``bench/locks.py`` (in its own process); whether it ran."""
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "bench" / "locks.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        log(done.stderr[-2000:])
        return f"SQLite write lock: bench/locks.py failed (exit {done.returncode}).", False
    return done.stdout.strip(), True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--seconds", type=float, help="load per page type (default: by size)")
    parser.add_argument(
        "--postgresql-only",
        action="store_true",
        help="with FORUM_BENCH_DATABASE_URL: measure PostgreSQL alone (no SQLite run); the"
        " figures are printed, bench/RESULTS.md is left as it is",
    )
    args = parser.parse_args()
    if args.postgresql_only and not os.environ.get("FORUM_BENCH_DATABASE_URL"):
        parser.error("--postgresql-only needs FORUM_BENCH_DATABASE_URL")
    seconds = args.seconds or SIZES[args.size][1]
    started = time.perf_counter()
    results, builds = {}, {}
    databases = [("sqlite", None)]
    if os.environ.get("FORUM_BENCH_DATABASE_URL"):
        databases.append(("postgresql", os.environ["FORUM_BENCH_DATABASE_URL"]))
        if args.postgresql_only:
            databases = databases[1:]
    for kind, pg_url in databases:
        small = None
        if kind == "sqlite":
            if args.size != "S":  # the page-speed-independent-of-size check
                small_url, _info = sqlite_data("S")
                small = (small_url, manifest(small_url))
            url, builds[kind] = sqlite_data(args.size)
        else:
            url, builds[kind] = postgres_data(args.size, pg_url)
        results[kind] = measure(kind, url, manifest(url), seconds, small)
    locks, locks_ran = lock_figures()
    section = "\n".join(
        [
            f"## Size {args.size} ({time.strftime('%Y-%m-%d')})",
            "",
            machine(results),
            "",
            table(args.size, results, builds),
            locks,
            "",
        ]
    )
    print(section)
    if not args.postgresql_only:  # the size's section holds both databases
        write_results(args.size, section)
    failures = [f for r in results.values() for f in r["failures"]]
    if not locks_ran:
        failures.append(locks)
    log(f"bench {args.size}: {time.perf_counter() - started:.0f} s")
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures[:20]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
