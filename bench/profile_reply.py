"""Where a reply's time goes: the write mix's request, in one process, under a profiler.

Builds the forum as the benchmark serves it (production settings, rate limits off) on a
fresh copy of the SQLite data set of ``--size`` (built first if missing, as ``make bench``
does), logs the benchmark's writers in through the form, then posts ``--replies`` replies
to the same quiet threads as the write mix, through the test client. Prints, per reply:
the CPU time, the SQL statements run, how long SQLite's write lock was held (from each
``BEGIN IMMEDIATE`` to its commit) and how many pages the reply wrote to the WAL (no
checkpoint runs while measuring). ``--cprofile FILE`` writes a cProfile dump of the
measured replies (read it with ``python -m pstats FILE``); ``--sql`` lists the statements.

    python bench/profile_reply.py --replies 300 [--cprofile /tmp/reply.prof] [--sql]

CPU time on a shared machine varies by a third from one run to the next; the count of
instructions does not. ``--callgrind``, under valgrind, zeroes the counters after the
warm-up and dumps them after the measured replies (``callgrind.out.<pid>.1``; the
``summary`` line is the total, ``callgrind_annotate`` reads the rest), about 30 times
slower::

    valgrind --tool=callgrind python bench/profile_reply.py --replies 100 --callgrind

With ``--instr-atstart=no`` valgrind runs the warm-up several times faster (the script
turns the counting on when it starts measuring): a long ``--warm-up`` then costs minutes,
not an hour.

One process, no HTTP and no second worker: the figures are the request's own costs,
not the throughput of ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - after the path above

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _token(page: str) -> str:
    match = CSRF_RE.search(page)
    if not match:
        raise SystemExit("no CSRF token on the login page")
    return next(group for group in match.groups() if group)


class Recorder:
    """Statements run (counted as tests/conftest.py's query_counter does) and write-lock
    time (from the SQLite driver's own trace: each BEGIN IMMEDIATE to its end)."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.count = 0
        self.lock_seconds = 0.0
        self._locked_at: float | None = None

    def reset(self) -> None:
        self.__init__()

    def statement(self, _conn, _cursor, sql: str, *_args) -> None:
        if sql.lstrip().split(None, 1)[0].upper() in {
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "WITH",
        }:
            self.count += 1
            self.statements[" ".join(sql.split())[:400]] += 1

    def trace(self, sql: str) -> None:
        verb = sql.lstrip()[:16].upper()
        if verb.startswith("BEGIN IMMEDIATE"):
            self._locked_at = time.perf_counter()
        elif verb.startswith(("COMMIT", "ROLLBACK")) and self._locked_at is not None:
            self.lock_seconds += time.perf_counter() - self._locked_at
            self._locked_at = None


def callgrind(command: str) -> None:
    """Zero or dump this process's callgrind counters (the tool polls for the command)."""
    control = subprocess.Popen(["callgrind_control", command, str(os.getpid())])  # noqa: S603, S607
    # Callgrind reads its command file while this process runs code, not while it waits.
    deadline = time.monotonic() + 120
    while control.poll() is None:
        if time.monotonic() > deadline:
            control.kill()
            raise SystemExit(
                "callgrind_control did not answer: run under valgrind --tool=callgrind"
            )
        time.sleep(0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=run.SIZES, default="S")
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="a PostgreSQL database instead (a fresh copy of it): no lock or WAL figures",
    )
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument(
        "--warm-up",
        type=int,
        default=20,
        metavar="N",
        help="replies posted before measuring: the writers watch the threads they answer,"
        " so each reply notifies more members, as in a long run of the write mix",
    )
    parser.add_argument("--cprofile", metavar="FILE")
    parser.add_argument("--sql", action="store_true", help="list the statements per reply")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="under valgrind --tool=callgrind: count the measured replies' instructions only",
    )
    args = parser.parse_args()

    url = run.data_set(args.size, args.postgresql)  # a fresh copy of the data set
    sqlite = url.startswith("sqlite")
    os.environ.update(run.served_environment(url, run.DATA / "instance"))
    from forum import create_app
    from forum.extensions import db

    manifest = run.manifest(url)
    app = create_app()
    recorder = Recorder()
    with app.app_context():
        engine = db.engine
    engine.dispose()  # the connections opened from now on are traced

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection, _record):
        if sqlite:
            dbapi_connection.set_trace_callback(recorder.trace)
            # No checkpoint while measuring: the WAL's frames count the pages written.
            dbapi_connection.execute("PRAGMA wal_autocheckpoint = 0")

    event.listen(engine, "before_cursor_execute", recorder.statement)

    writers = []
    for username in manifest["writers"]:
        client = app.test_client()
        token = _token(client.get("/auth/login").get_data(as_text=True))
        form = {"login": username, "password": run.PASSWORD, "csrf_token": token}
        if client.post("/auth/login", data=form).status_code != 302:
            raise SystemExit(f"login of {username} failed")
        writers.append((client, token))
    rng = random.Random(1)  # noqa: S311 - load shape, not secrets

    def reply(n: int) -> None:
        client, token = writers[n % len(writers)]
        thread_id = rng.choice(manifest["write_threads"])
        body = (
            f"Réponse de charge {n} : le **débat** continue, "
            "avec une coopérative du quartier et le comité d'entreprise."
        )
        response = client.post(
            f"/threads/{thread_id}/reply", data={"body": body, "csrf_token": token}
        )
        if response.status_code != 302:
            raise SystemExit(f"reply {n}: HTTP {response.status_code}")

    def wal_frames(mode: str) -> int:
        if not sqlite:
            return 0
        with engine.connect() as conn:
            return conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").one()[1]

    for n in range(args.warm_up):
        reply(n)
    wal_frames("TRUNCATE")
    recorder.reset()
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if args.callgrind:
        callgrind("--instr=on")  # if started with --instr-atstart=no (a faster warm-up)
        callgrind("--zero")
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(args.warm_up, args.warm_up + args.replies):
        reply(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if args.callgrind:
        callgrind("--dump=measured replies")
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    pages = wal_frames("PASSIVE")

    per = 1000 / args.replies
    figures = [
        f"{cpu * per:.2f} ms CPU and {wall * per:.2f} ms wall each",
        f"{recorder.count / args.replies:.1f} SQL statements",
    ]
    if sqlite:
        figures += [
            f"write lock held {recorder.lock_seconds * per:.2f} ms",
            f"{pages / args.replies:.1f} pages written to the WAL",
        ]
    print(
        f"{args.replies} replies: " + ", ".join(figures) + (" (under cProfile)" if profiler else "")
    )
    if args.sql:
        for statement, count in recorder.statements.most_common():
            print(f"{count / args.replies:6.2f}  {statement}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
