"""The write mix of ``make bench`` alone: replies/s with 20 writers, and the workers' peak RSS.

The same server (gunicorn, 2 sync workers, production settings) and the same load
(``bench/loadgen.py``: 20 members logged in through the form, posting replies to quiet
threads) as step 4 of ``bench/run.py``, on a fresh copy of the SQLite data set of
size S (built first if missing); each page of the benchmark is read once first, as the
full run does, so that the peak RSS counts them. A quicker measure than the whole run
when only the write path changed::

    python bench/writes.py [--seconds 8] [--rounds 3] [--size S] [--postgresql URL] [--workers 2]

``--postgresql`` measures on that PostgreSQL database instead, holding the data set of
the size (built there first when it holds another one, as ``make bench`` does with
``FORUM_BENCH_DATABASE_URL``), on a copy made for the run: ``<database>_run``, so that
every run starts from the same data.

Prints one line per round and the peak RSS (VmHWM) of each gunicorn worker. Exits 1 on
any error or lost reply.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - after the path above


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", choices=run.SIZES, default="S")
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL database instead")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn sync workers (make bench: 2)"
    )
    args = parser.parse_args()
    url = run.data_set(args.size, args.postgresql)
    data = run.manifest(url)
    server = run.Server("wsgi:app", url, run.DATA / "instance", workers=args.workers)
    acked: list[int] = []
    failures: list[str] = []
    try:
        for paths in data["pages"].values():
            for path in paths:
                server.get(path)
        for number in range(args.rounds):
            result = run.load(
                {
                    "mode": "write",
                    "base": server.base,
                    "seconds": args.seconds,
                    "users": data["writers"],
                    "password": run.PASSWORD,
                    "threads": data["write_threads"],
                }
            )
            acked += result["acked"]
            failures += result["error_samples"]
            print(
                f"round {number + 1}: {result['rps']:.1f} replies/s, p50 {result['p50']:.0f} ms, "
                f"p99 {result['p99']:.0f} ms, errors {result['errors']}, "
                f"acknowledged {len(result['acked'])}",
                flush=True,
            )
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = sum(
            conn.execute(
                text(f"SELECT count(*) FROM posts WHERE id IN ({','.join(map(str, chunk))})")  # noqa: S608
            ).scalar_one()
            for chunk in (acked[n : n + 500] for n in range(0, len(acked), 500))
        )
    engine.dispose()
    print(f"acknowledged {len(acked)}, lost {len(acked) - stored}")
    print("peak RSS per worker: " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    if stored != len(acked):
        failures.append(f"{len(acked) - stored} acknowledged replies not stored")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:20]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
