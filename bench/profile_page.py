"""Where a member's 500-post thread page goes: the page, in one process, ours or the ceiling's.

Builds the forum as the benchmark serves it (production settings, rate limits off) on a
fresh copy of the data set of ``--size`` (SQLite, or ``--postgresql URL``; built first
if missing, as ``make bench`` does), logs in the benchmark's member through the form,
reads the page it measures (``thread_500_member``) a few times, then ``--pages`` times
through the test client. ``--ceiling`` serves the same page from ``bench/ceiling.py``
instead: the same templates rendered from objects held in memory. Prints, per page:
the worker's CPU time (user and system), the part of it the garbage collector took,
the SQL statements run, and on PostgreSQL the CPU time of the server's processes over
the run (all of them: run nothing else on that server meanwhile).

    python bench/profile_page.py [--postgresql URL] [--ceiling] [--pages 200] [--sql]

As ``bench/profile_reply.py``, under valgrind ``--callgrind`` counts the measured pages'
instructions only (stable where the CPU time is not)::

    valgrind --tool=callgrind --instr-atstart=no python bench/profile_page.py --pages 10 --callgrind

One process, no HTTP: the figures are the page's own costs, not the throughput of
``make bench``.
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - after the path above
from bench.profile_reply import Recorder, _token, callgrind  # noqa: E402


class Collections:
    """Time the garbage collector took, from its own callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.count += 1


def server_cpu_seconds() -> float:
    """CPU time of every process named postgres on this machine (Linux's /proc)."""
    ticks = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, encoding="ascii") as f:
                name, rest = f.read().split(") ", 1)
        except (OSError, ValueError):
            continue
        if name.endswith("(postgres"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=run.SIZES, default="S")
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL database instead")
    parser.add_argument("--ceiling", action="store_true", help="the ceiling's page")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--sql", action="store_true", help="list the statements per page")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        metavar="N",
        help="the garbage collector's first threshold, instead of wsgi.py's",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="under valgrind --tool=callgrind: count the measured pages' instructions only",
    )
    args = parser.parse_args()

    url = run.data_set(args.size, args.postgresql)
    manifest = run.manifest(url)
    spec = manifest["member_pages"]["thread_500_member"]
    path, user = spec["paths"][0], spec["user"]
    os.environ.update(run.served_environment(url, run.DATA / "instance"))
    if args.ceiling:
        manifest_file = run.DATA / "manifest-profile.json"
        manifest_file.write_text(json.dumps(manifest))
        os.environ["FORUM_BENCH_MANIFEST"] = str(manifest_file)
        from bench import ceiling  # builds its app on import, from the manifest

        app = ceiling.app
    else:
        from forum import create_app

        app = create_app()
    from forum.extensions import db

    recorder = Recorder()  # statements as the tests count them: no BEGIN or PRAGMA
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", recorder.statement)

    client = app.test_client()
    token = _token(client.get("/auth/login").get_data(as_text=True))
    form = {"login": user, "password": run.PASSWORD, "csrf_token": token}
    if client.post("/auth/login", data=form).status_code != 302:
        raise SystemExit(f"login of {user} failed")
    for _ in range(5):  # the first reading moves the read position; caches fill
        if client.get(path).status_code != 200:
            raise SystemExit(f"{path}: not a page")
    # As wsgi.py does once the worker has started.
    gc.collect()
    gc.freeze()
    if args.gc_threshold:
        gc.set_threshold(args.gc_threshold, *gc.get_threshold()[1:])
    collections = Collections()
    recorder.reset()

    server = server_cpu_seconds() if args.postgresql else 0.0
    if args.callgrind:
        callgrind("--instr=on")  # if started with --instr-atstart=no (a faster warm-up)
        callgrind("--zero")
    before = os.times()
    for _ in range(args.pages):
        client.get(path)
    after = os.times()
    if args.callgrind:
        callgrind("--dump=measured pages")
    server = server_cpu_seconds() - server if args.postgresql else None

    per = 1000 / args.pages
    user_ms = (after.user - before.user) * per
    system_ms = (after.system - before.system) * per
    figures = [
        f"{user_ms + system_ms:.2f} ms CPU ({user_ms:.2f} user, {system_ms:.2f} system)",
        f"{collections.seconds * per:.2f} ms of it collecting garbage"
        f" ({collections.count / args.pages:.1f} collections)",
        f"{recorder.count / args.pages:.1f} SQL statements",
    ]
    if server is not None:
        figures.append(f"PostgreSQL's processes {server * per:.2f} ms CPU")
    kind = "the ceiling's" if args.ceiling else "our"
    print(f"{args.pages} readings of {kind} {path} for {user}: " + ", ".join(figures))
    if args.sql:
        for statement, n in recorder.statements.most_common():
            print(f"{n / args.pages:6.2f}  {statement}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
