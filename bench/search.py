"""The search page alone: its p50 per query on a data set already built, in-process.

The searches of ``make bench`` (``bench.run.SEARCHES``), each read through Flask's test
client by an anonymous reader (the whole page: view, queries, ranking, snippets,
template), a few times to warm up, then ``--runs`` times measured. Reads only: point it
at a data set of ``make bench`` (SIZE=L on PostgreSQL holds 1M posts), or at a copy of
one's SQLite file::

    python bench/search.py --database-url postgresql+psycopg://user:password@host/forum_bench
    FORUM_BENCH_DATABASE_URL=sqlite:////tmp/forum.sqlite3 python bench/search.py --runs 20

Prints one table: per query the median, the fastest and the slowest request, the
results on the page and a fingerprint of their order; then the overall p50 (every request of every query) and the median
of the queries' medians. Exits 1 when a page does not answer 200; slowness alone never
fails.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import SEARCHES  # noqa: E402 - after the path above

WARMUP = 2


def _app(url: str):
    from forum import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-search-" + "x" * 32,
            "FORUM_RATE_LIMITS": "off",
            "FORUM_PAGE_CACHE_SECONDS": 0,
        }
    )


def _results(html: bytes) -> tuple[int, str]:
    """The results on the page and a fingerprint of their order (same ranking, same one)."""
    ids = re.findall(rb'<li class="search-result" id="([^"]+)"', html)
    return len(ids), hashlib.sha256(b" ".join(ids)).hexdigest()[:8]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FORUM_BENCH_DATABASE_URL"),
        help="SQLAlchemy URL of the data set (default: FORUM_BENCH_DATABASE_URL)",
    )
    parser.add_argument("--runs", type=int, default=10, help="measured requests per query")
    parser.add_argument(
        "--query", action="append", help="a search to measure (repeatable; default: bench's)"
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or set FORUM_BENCH_DATABASE_URL")
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="forum-bench-search-") as instance:
        os.environ["FORUM_INSTANCE_PATH"] = instance
        client = _app(args.database_url).test_client()
        # As wsgi.py does for the served app: what start-up made is left out of the
        # garbage collector's walks.
        gc.collect()
        gc.freeze()
        return _measure(client, args.query or list(SEARCHES), max(1, args.runs))


def _measure(client, queries: list[str], runs: int) -> int:
    medians: list[float] = []
    every: list[float] = []
    print(f"{'search':<28} {'p50 ms':>8} {'min':>8} {'max':>8} {'results':>8}  order")
    for query in queries:
        url = f"/search?q={quote(query)}"
        timings = []
        for number in range(WARMUP + runs):
            start = time.perf_counter()
            response = client.get(url, headers={"Accept-Language": "fr"})
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                print(f"{query!r}: HTTP {response.status_code}", file=sys.stderr)
                return 1
            if number >= WARMUP:
                timings.append(elapsed)
        median = statistics.median(timings)
        medians.append(median)
        every += timings
        count, order = _results(response.data)
        print(
            f"{query:<28} {median:8.1f} {min(timings):8.1f} {max(timings):8.1f} "
            f"{count:8d}  {order}",
            flush=True,
        )
    print(f"{'p50, every request':<28} {statistics.median(every):8.1f}")
    print(f"{'median of the medians':<28} {statistics.median(medians):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
