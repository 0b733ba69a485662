"""A small, bounded HTTP load generator: N client threads on loopback for a fixed time.

Runs in its own process (``bench/run.py`` starts it), so the server's measure does not
share an interpreter with the client. Reads a JSON job on stdin, prints a JSON result:

* ``{"mode": "read", "paths": [...]}``: each client GETs the paths in turn (keep-alive
  when the server allows it) until the time is up.
* ``{"mode": "write", "users": [...], "threads": [...]}``: each client logs in as one
  member through the login form (with its CSRF token), then posts replies as fast as
  the server acknowledges them; the ids of acknowledged replies are returned so the
  caller can count how many were really stored.
* A read job with ``"login": [user, password]`` reads as that member: each client logs
  in through the form first, and the clock starts once all are logged in.
* Private conversations: a write job with ``"conversations": [[id…] per user]`` sends
  messages to the writer's own conversations (``/messages/<id>/reply``) instead of
  thread replies.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
POST_RE = re.compile(r"/posts/(\d+)")
MESSAGE_RE = re.compile(r"/messages/\d+#message-(\d+)")


class Client:
    """One keep-alive connection with a cookie jar of one cookie (the session)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn: http.client.HTTPConnection | None = None
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Accept-Language": "fr", "User-Agent": "forum-bench"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            cookie = response.getheader("Set-Cookie")
            if cookie and cookie.startswith("session="):
                self.cookie = cookie.split(";", 1)[0]
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response, data
        raise AssertionError("unreachable")


def _login(client: Client, user: str, password: str) -> str:
    """Log in through the form; returns the session's CSRF token."""
    _response, page = client.request("GET", "/auth/login")
    token = _csrf(page.decode())
    response, _data = client.request(
        "POST", "/auth/login", {"login": user, "password": password, "csrf_token": token}
    )
    if response.status != 302:
        raise RuntimeError(f"login of {user}: HTTP {response.status}")
    return token


def _reader(base, paths, offset, gate, state, out, login=None):
    client = Client(base)
    logged_in = True
    if login:
        try:
            _login(client, *login)
        except Exception as exc:
            out["errors"].append(repr(exc))
            logged_in = False
    # Every reader is logged in: the clock starts for all at once, logins left out.
    try:
        gate.wait()
    except threading.BrokenBarrierError:
        out["errors"].append("the readers never all started")
        return
    if not logged_in:
        return
    deadline = state["deadline"]
    i = offset
    while time.perf_counter() < deadline:
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        try:
            response, data = client.request("GET", path)
        except Exception as exc:
            out["errors"].append(f"{path}: {exc!r}")
            continue
        out["times"].append(time.perf_counter() - started)
        out["bytes"].append(len(data))
        if response.status != 200:
            out["errors"].append(f"{path}: HTTP {response.status}")


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return next(group for group in match.groups() if group)


def _writer(base, user, password, threads, gate, state, seed, out, conversations=None):
    rng = random.Random(seed)  # noqa: S311 - load shape, not secrets
    client = Client(base)
    token = None
    try:
        token = _login(client, user, password)
    except Exception as exc:
        out["errors"].append(repr(exc))
        token = None
    # Everyone is logged in: the clock starts for all writers at once.
    try:
        gate.wait()
    except threading.BrokenBarrierError:
        out["errors"].append(f"{user}: the writers never all started")
        return
    if token is None:
        return
    number = 0
    while time.perf_counter() < state["deadline"]:
        number += 1
        if conversations:
            _send_message(client, token, rng.choice(conversations), seed, number, out)
            continue
        thread_id = rng.choice(threads)
        form = {
            "csrf_token": token,
            "body": f"Réponse de charge {seed}-{number} : le **débat** continue, "
            "avec une coopérative du quartier et le comité d'entreprise.",
        }
        started = time.perf_counter()
        try:
            response, _data = client.request("POST", f"/threads/{thread_id}/reply", form)
        except Exception as exc:
            out["errors"].append(repr(exc))
            continue
        out["times"].append(time.perf_counter() - started)
        match = POST_RE.search(response.getheader("Location") or "")
        if response.status == 302 and match:
            out["acked"].append(int(match.group(1)))
        else:
            out["errors"].append(f"reply: HTTP {response.status}")


def _send_message(client, token, conversation_id, seed, number, out) -> None:
    form = {
        "csrf_token": token,
        "body": f"Message de charge {seed}-{number} : on se retrouve **jeudi** avec le CSE ?",
    }
    started = time.perf_counter()
    try:
        response, _data = client.request("POST", f"/messages/{conversation_id}/reply", form)
    except Exception as exc:
        out["errors"].append(repr(exc))
        return
    out["times"].append(time.perf_counter() - started)
    match = MESSAGE_RE.search(response.getheader("Location") or "")
    if response.status == 302 and match:
        out["acked"].append(int(match.group(1)))
    else:
        out["errors"].append(f"message: HTTP {response.status}")


def run(job: dict) -> dict:
    out = {"times": [], "bytes": [], "errors": [], "acked": []}
    state = {"started": time.perf_counter()}

    def start_clock() -> None:
        state["started"] = time.perf_counter()
        state["deadline"] = state["started"] + job["seconds"]

    if job["mode"] == "read":
        gate = threading.Barrier(job["concurrency"], action=start_clock, timeout=300)
        workers = [
            threading.Thread(
                target=_reader,
                args=(job["base"], job["paths"], n, gate, state, out, job.get("login")),
            )
            for n in range(job["concurrency"])
        ]
    else:
        gate = threading.Barrier(len(job["users"]), action=start_clock, timeout=300)
        workers = [
            threading.Thread(
                target=_writer,
                args=(job["base"], user, job["password"], job["threads"], gate, state, n, out),
                kwargs={"conversations": (job.get("conversations") or [None] * (n + 1))[n]},
            )
            for n, user in enumerate(job["users"])
        ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - state["started"]
    times = sorted(out["times"])

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))] * 1000 if times else 0.0

    return {
        "requests": len(times),
        "elapsed": elapsed,
        "times": [round(t * 1000, 3) for t in times],
        "rps": len(times) / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "bytes": sum(out["bytes"]) / len(out["bytes"]) if out["bytes"] else 0,
        "errors": len(out["errors"]),
        "error_samples": out["errors"][:5],
        "acked": out["acked"],
    }


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
