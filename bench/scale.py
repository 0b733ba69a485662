"""Two app nodes, two workers, one PostgreSQL and one Redis: what holds when a node dies.

``python bench/scale.py`` (``make scale-test``) starts on loopback: a fresh PostgreSQL
schema ``scale`` in the database of ``FORUM_TEST_DATABASE_URL`` (migrated with
``flask db upgrade``), Redis database 1 of ``FORUM_REDIS_URL`` (default
``redis://127.0.0.1:6379/1``, emptied), two app nodes (``gunicorn -w 2 wsgi:app`` on two
ports, one secret key, ``FORUM_RATE_LIMITS=default``), two ``flask forum worker``
processes and an SMTP server (aiosmtpd) that counts mails per Message-ID. A client
spreads its requests over both nodes and shows:

1. a session opened on node A works on node B;
2. login throttling counts across both nodes (the 6th wrong password is refused);
3. a reply posted on A appears at once on B's cached anonymous thread page;
4. a post hidden by a moderator on B vanishes from A's cached anonymous page;
5. node A killed with SIGKILL during a load of writers loses no acknowledged reply and
   creates no duplicate (a writer whose request died re-reads its thread on the
   surviving node before posting again);
6. a worker killed with SIGKILL inside an SMTP exchange sends no mail twice and leaves
   none unsent.

Every process runs in its own process group and is killed at the end, whatever happens;
every wait is bounded. :func:`run` returns the figures and one verdict per point; the
test ``tests/test_scale.py`` calls it with small numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, suppress
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "scale-mot-de-passe-solide"  # noqa: S105 - accounts of a throwaway schema
SCHEMA = "scale"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
POST_RE = re.compile(r"/posts/(\d+)")
#: The post limit of the ``default`` policy is one reply per 5 s per member.
POST_INTERVAL = 5.2


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def schema_url(url: str) -> str:
    """The database URL with ``search_path`` set to our own schema."""
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{SCHEMA}"


# -- processes ----------------------------------------------------------------------------


class Group:
    """Processes started in their own process groups, all killed on exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("w") as log:  # the child keeps its copy
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def close(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                self.kill(name, signal.SIGTERM)
        for process in self.processes.values():  # the SIGTERM left children behind?
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


# -- SMTP ---------------------------------------------------------------------------------


class Inbox:
    """Counts mails by Message-ID. On the held port, the first DATA waits until released
    and is kept only if its client is still connected then."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.held = threading.Event()
        self.release = threading.Event()
        self.holding = False

    def handler(self, hold: bool):
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if hold and not inbox.holding:
                    inbox.holding = True
                    inbox.held.set()
                    deadline = time.monotonic() + 600
                    while not inbox.release.is_set() and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    transport = server.transport
                    if transport is None or transport.is_closing():
                        return "421 Client gone"
                message = message_from_bytes(envelope.content, policy=policy.default)
                with inbox.lock:
                    inbox.ids[str(message["Message-ID"])] += 1
                return "250 Message accepted"

        return Handler()


# -- HTTP ---------------------------------------------------------------------------------


class Gone(Exception):
    """The node did not answer: ``sent`` tells whether the request may have reached it."""

    def __init__(self, sent: bool, error: Exception) -> None:
        super().__init__(f"{error!r} (request {'sent' if sent else 'not sent'})")
        self.sent = sent


class Browser:
    """One person: a session cookie and a client address (``X-Forwarded-For``, one proxy
    trusted), talking to whichever node it is told; a new connection per request."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.cookie = ""

    def request(self, base: str, method: str, path: str, form: dict | None = None):
        parts = urlsplit(base)
        headers = {"Accept-Language": "fr", "X-Forwarded-For": self.address}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        sent = False
        try:
            try:
                conn.connect()
            except OSError as exc:
                raise Gone(False, exc) from exc
            try:
                conn.request(method, path, body=body, headers=headers)
                sent = True
                response = conn.getresponse()
                data = response.read().decode()
            except (OSError, http.client.HTTPException) as exc:
                raise Gone(sent, exc) from exc
        finally:
            conn.close()
        cookie = response.getheader("Set-Cookie")
        if cookie and cookie.startswith("session="):
            self.cookie = cookie.split(";", 1)[0]
        return response, data

    def csrf(self, base: str, path: str) -> str:
        response, page = self.request(base, "GET", path)
        match = CSRF_RE.search(page)
        if response.status != 200 or not match:
            raise RuntimeError(f"no form at {base}{path}: HTTP {response.status}")
        return next(group for group in match.groups() if group)

    def login(self, base: str, login: str, password: str = PASSWORD):
        token = self.csrf(base, "/auth/login")
        form = {"login": login, "password": password, "csrf_token": token}
        return self.request(base, "POST", "/auth/login", form)


# -- the forum ----------------------------------------------------------------------------


def prepare(url: str, env: dict, writers: int) -> dict:
    """An empty schema, migrated; members, a moderator and threads. Ids by name."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stderr}")
    code = f"import json, sys; from bench.scale import seed; print(json.dumps(seed({writers})))"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"seeding failed:\n{result.stderr}")
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def seed(writers: int) -> dict:
    """Run inside the forum's environment (``FORUM_DATABASE_URL``)."""
    from forum import create_app
    from forum.accounts import services as accounts
    from forum.accounts.models import Role
    from forum.db import utcnow, write_intent
    from forum.discussions import services as discussions
    from forum.discussions.models import Theme
    from forum.extensions import db

    app = create_app()
    with app.test_request_context(), write_intent():
        past = utcnow() - timedelta(days=2)  # not new accounts: the ordinary post limit
        names = ["hote", "ana", "cible", *(f"w{n:02d}" for n in range(writers))]
        users = {name: accounts.register(name, f"{name}@exemple.org", PASSWORD) for name in names}
        users["moderatrice"] = accounts.register(
            "moderatrice", "moderatrice@exemple.org", PASSWORD, role=Role.MODERATOR
        )
        for user in users.values():
            user.email_verified_at = utcnow()
            user.created_at = past
        db.session.commit()
        theme = db.session.execute(db.select(Theme).order_by(Theme.id).limit(1)).scalar_one()
        showcase = discussions.create_thread(
            users["hote"], theme, "La cantine du quartier", "Qui vient samedi ?"
        )
        threads = {
            f"w{n:02d}": discussions.create_thread(
                users["hote"], theme, f"Fil de charge {n}", f"Répondez ici, fil {n}."
            ).id
            for n in range(writers)
        }
        ids = {"showcase": showcase.id, "threads": threads}
        db.session.remove()
    return ids


# -- the run ------------------------------------------------------------------------------


class Unavailable(RuntimeError):
    """A service the run needs is not there: said in one line, without a traceback."""


def run(writers: int = 20, replies: int = 10) -> dict:
    """Start everything, check the six points, tear everything down. Figures and verdicts."""
    from aiosmtpd.controller import Controller
    from sqlalchemy import create_engine, text

    database = os.environ.get("FORUM_SCALE_DATABASE_URL") or os.environ.get(
        "FORUM_TEST_DATABASE_URL"
    )
    if not database or not database.startswith("postgresql"):
        raise Unavailable("set FORUM_TEST_DATABASE_URL to a PostgreSQL database")
    redis_url = os.environ.get("FORUM_SCALE_REDIS_URL", "redis://127.0.0.1:6379/1")
    url = schema_url(database)
    import redis

    try:
        redis.Redis.from_url(redis_url).flushdb()
    except redis.RedisError as exc:
        raise Unavailable(
            f"Redis does not answer at {redis_url} ({exc}): start redis-server, or point "
            "FORUM_SCALE_REDIS_URL at one"
        ) from exc
    folder = Path(tempfile.mkdtemp(prefix="forum-scale-"))
    say(f"logs in {folder}")
    inbox = Inbox()
    results: dict = {"points": {}}
    points = results["points"]
    with ExitStack() as stack:
        controllers = []
        for hold in (True, False):
            controller = Controller(inbox.handler(hold), hostname="127.0.0.1", port=free_port())
            controller.start()
            controllers.append(controller)
            stack.callback(controller.stop)
        stack.callback(inbox.release.set)
        common = dict(os.environ)
        common.update(
            FLASK_APP="wsgi",
            FORUM_ENV="production",
            FORUM_SECRET_KEY=secrets.token_urlsafe(48),
            FORUM_DATABASE_URL=url,
            FORUM_REDIS_URL=redis_url,
            FORUM_RATE_LIMITS="default",
            FORUM_PROXY_COUNT="1",
            FORUM_PAGE_CACHE_SECONDS="60",
            FORUM_MAIL_SERVER="127.0.0.1",
            FORUM_MAIL_PORT=str(controllers[1].port),
            FORUM_MAIL_TIMEOUT="120",
            FORUM_WORKER_LEASE="5",
            FORUM_WORKER_POLL="0.2",
            FORUM_DIGEST_HOUR="-1",
            FORUM_INSTANCE_PATH=str(folder),
        )
        common.pop("FORUM_METRICS", None)
        ids = prepare(database, common, writers)
        group = Group(folder)
        stack.callback(group.close)
        nodes = {}
        for name in ("A", "B"):
            port = free_port()
            group.start(
                f"node{name}",
                ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                common,
            )
            nodes[name] = f"http://127.0.0.1:{port}"
        # Worker 1 mails through the port whose first DATA is held; worker 2 through the other.
        group.start("worker1", ["flask", "forum", "worker"], {**common,
                    "FORUM_MAIL_PORT": str(controllers[0].port)})  # fmt: skip
        group.start("worker2", ["flask", "forum", "worker"], common)
        for name, base in nodes.items():
            deadline = time.monotonic() + 90
            while True:
                try:
                    response, _ = Browser("127.0.0.9").request(base, "GET", "/healthz")
                    if response.status == 200:
                        break
                except Gone:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {name} did not start (see {folder})")
                time.sleep(0.2)
        A, B = nodes["A"], nodes["B"]
        say(f"node A {A}, node B {B}, workers 1 and 2, SMTP on ports "
            f"{controllers[0].port} (worker 1) and {controllers[1].port} (worker 2)")  # fmt: skip

        # 1. A session opened on A works on B.
        ana = Browser("127.0.0.11")
        response, _ = ana.login(A, "ana")
        logged_in = response.status == 302
        response, page = ana.request(B, "GET", f"/threads/{ids['showcase']}/reply")
        points[1] = logged_in and response.status == 200 and "ana" in page
        say(f"1. login on A: HTTP {302 if logged_in else response.status}; the reply form on B "
            f"with that cookie: HTTP {response.status} -> {'proven' if points[1] else 'FAILED'}")  # fmt: skip

        # 2. Wrong passwords, alternating nodes: the 6th is refused.
        statuses, throttled = [], []
        for attempt in range(7):  # a new address each time: only the account counts
            attacker = Browser(f"127.0.0.{20 + attempt}")
            base = (A, B)[attempt % 2]
            password = PASSWORD if attempt == 6 else "pas-le-bon-mot-de-passe"
            response, page = attacker.login(base, "cible", password)
            statuses.append((("A", "B")[attempt % 2], response.status))
            throttled.append("ont échoué sur ce compte" in page)
        # Wrong passwords answer the form again (400); then the account's lock (429).
        points[2] = [s for _, s in statuses] == [400] * 5 + [429, 429] and throttled[5:] == [
            True,
            True,
        ]
        say(f"2. 6 wrong passwords on 'cible', then the right one, alternating A/B: "
            f"{statuses}, the account's lock named in the 6th and 7th: {throttled[5:]} -> {'proven' if points[2] else 'FAILED'}")  # fmt: skip

        # 3. A reply posted on A shows at once on B's cached anonymous page.
        anonymous = Browser("127.0.0.13")
        showcase = f"/threads/{ids['showcase']}"
        for base in (A, B):  # both nodes' caches hold the page
            anonymous.request(base, "GET", showcase)
        _, before = anonymous.request(B, "GET", showcase)
        marker = f"marque-{secrets.token_hex(4)}"
        token = ana.csrf(A, f"{showcase}/reply")
        response, _ = ana.request(
            A, "POST", f"{showcase}/reply", {"csrf_token": token, "body": f"J'en suis ! {marker}"}
        )
        location = response.getheader("Location") or ""
        post_match = POST_RE.search(location)
        _, after = anonymous.request(B, "GET", showcase)
        points[3] = (
            response.status == 302 and post_match and marker not in before and marker in after
        )
        say(f"3. reply on A: HTTP {response.status} {location}; B's anonymous page before: "
            f"{'has' if marker in before else 'lacks'} it, right after: "
            f"{'has' if marker in after else 'lacks'} it -> {'proven' if points[3] else 'FAILED'}")  # fmt: skip

        # 4. The moderator hides that reply on B: A's cached anonymous page loses it.
        _, cached_a = anonymous.request(A, "GET", showcase)
        moderator = Browser("127.0.0.14")
        moderator.login(B, "moderatrice")
        post_id = post_match.group(1) if post_match else "0"
        token = moderator.csrf(B, showcase)
        response, _ = moderator.request(
            B, "POST", f"/posts/{post_id}/hide", {"csrf_token": token, "reason": "Hors sujet."}
        )
        _, after = anonymous.request(A, "GET", showcase)
        points[4] = marker in cached_a and marker not in after and response.status in (302, 303)
        say(f"4. A's anonymous page before the hide: {'has' if marker in cached_a else 'lacks'} "
            f"it; hide on B: HTTP {response.status}; A's anonymous page after: "
            f"{'has' if marker in after else 'lacks'} it -> {'proven' if points[4] else 'FAILED'}")  # fmt: skip

        # 5. Writers on both nodes; node A killed with SIGKILL midway.
        acknowledged: set[str] = set()
        found_later: set[str] = set()
        counts = Counter()
        alive = {"A": True}
        in_flight = Counter()
        lock = threading.Lock()
        total = writers * replies
        kill_at = total // 3
        killed = threading.Event()

        def writer(n: int) -> None:
            name = f"w{n:02d}"
            me = Browser(f"127.0.1.{n + 1}")
            thread_path = f"/threads/{ids['threads'][name]}"
            node = (A, B)[n % 2]
            for _attempt in range(10):
                try:
                    if me.login(node, name)[0].status == 302:
                        break
                except Gone:
                    pass
                node = B
            try:
                token = me.csrf(node if alive["A"] else B, thread_path + "/reply")
            except Gone:
                token = me.csrf(B, thread_path + "/reply")
            for k in range(replies):
                body = f"Réponse {name}-{k} : {secrets.token_hex(6)}"
                node = (A, B)[(n + k) % 2]
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    if node == A and not alive["A"]:
                        node = B
                    started = time.monotonic()
                    with lock:
                        in_flight[node] += 1
                    try:
                        response, _ = me.request(
                            node,
                            "POST",
                            thread_path + "/reply",
                            {"csrf_token": token, "body": body},
                        )
                    except Gone as exc:
                        with lock:
                            counts[f"lost with node A ({'sent' if exc.sent else 'refused'})"] += 1
                        node = B
                        if exc.sent:  # it may have been written: read before writing again
                            _, page = me.request(B, "GET", thread_path)
                            if body in page:
                                with lock:
                                    found_later.add(body)
                                break
                        continue
                    finally:
                        with lock:
                            in_flight[node] -= 1
                    if response.status == 302 and POST_RE.search(response.getheader("Location")):
                        with lock:
                            acknowledged.add(body)
                            counts[f"acknowledged by node {'A' if node == A else 'B'}"] += 1
                            if len(acknowledged) >= kill_at:
                                killed.set()
                        time.sleep(max(0.0, POST_INTERVAL - (time.monotonic() - started)))
                        break
                    with lock:
                        counts[f"HTTP {response.status}, tried again"] += 1
                    time.sleep(1.0)
                else:
                    with lock:
                        counts["replies given up"] += 1

        pool = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
        started = time.monotonic()
        for t in pool:
            t.start()
        killed.wait(timeout=replies * 20 + 120)
        deadline = time.monotonic() + 15  # kill while A is answering a reply, if one comes
        while not in_flight[A] and time.monotonic() < deadline:
            time.sleep(0.001)
        busy = in_flight[A]
        alive["A"] = False
        group.kill("nodeA")
        killed_after = len(acknowledged)
        say(f"5. {writers} writers x {replies} replies over A and B; node A killed (SIGKILL, "
            f"its process group) after {killed_after} acknowledged replies, "
            f"{busy} reply request(s) in its hands")  # fmt: skip
        for t in pool:
            t.join(timeout=max(1.0, replies * 20 + 180 - (time.monotonic() - started)))
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT body_source FROM posts WHERE body_source LIKE 'Réponse w%'")
            ).scalars()
            stored = Counter(rows)
        lost = acknowledged - set(stored)
        duplicates = {body: c for body, c in stored.items() if c > 1}
        unacknowledged = set(stored) - acknowledged - found_later
        points[5] = (
            not lost
            and not duplicates
            and len(acknowledged | found_later) == total
            and not any(t.is_alive() for t in pool)
        )
        say(f"   {dict(counts)}; acknowledged {len(acknowledged)}, found on B after a lost "
            f"answer {len(found_later)}, of {total}; in the database {sum(stored.values())} "
            f"replies, {len(stored)} distinct; acknowledged but missing {len(lost)}; "
            f"duplicated {len(duplicates)}; stored, never acknowledged nor found "
            f"{len(unacknowledged)}; {time.monotonic() - started:.1f} s "
            f"-> {'proven' if points[5] else 'FAILED'}")  # fmt: skip
        results["load"] = {
            "acknowledged": len(acknowledged),
            "found_later": len(found_later),
            "stored": sum(stored.values()),
            "lost": len(lost),
            "duplicates": len(duplicates),
            "killed_after": killed_after,
        }

        # 6. Worker 1 is inside an SMTP exchange (its first DATA held): SIGKILL it.
        reached = inbox.held.wait(timeout=60)
        group.kill("worker1")
        inbox.release.set()
        where = (
            "inside its SMTP exchange (DATA held)" if reached else "NEVER reached the SMTP server"
        )
        say(f"6. worker 1 {where}: killed with SIGKILL; worker 2 delivers the rest")
        deadline = time.monotonic() + 120
        while True:
            with engine.connect() as conn:
                outbox, unsent = conn.execute(
                    text(
                        "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL) FROM outbox_mails"
                    )
                ).one()
            with inbox.lock:
                received, distinct = sum(inbox.ids.values()), len(inbox.ids)
                twice = sum(1 for c in inbox.ids.values() if c > 1)
            if (not unsent and received >= outbox) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # anything sent twice would arrive now
        with inbox.lock:
            received, distinct = sum(inbox.ids.values()), len(inbox.ids)
            twice = sum(1 for c in inbox.ids.values() if c > 1)
        engine.dispose()
        points[6] = reached and unsent == 0 and twice == 0 and distinct == outbox
        say(f"   outbox {outbox} mails, unsent {unsent}; the SMTP server received {received}, "
            f"{distinct} distinct Message-IDs, {twice} more than once "
            f"-> {'proven' if points[6] else 'FAILED'}")  # fmt: skip
        results["mail"] = {"outbox": outbox, "unsent": unsent, "received": received,
                           "distinct": distinct, "twice": twice}  # fmt: skip
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--replies", type=int, default=10)
    args = parser.parse_args()
    try:
        results = run(args.writers, args.replies)
    except Unavailable as exc:
        print(f"scale-test: {exc}", file=sys.stderr)
        return 2
    proven = [n for n, ok in results["points"].items() if ok]
    say(f"proven: {proven or 'none'} of 1-6")
    return 0 if len(proven) == 6 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
