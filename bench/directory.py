"""The directory's pages at size: 10,000 organisations and 50,000 offers and needs.

Builds a fresh SQLite forum in a temporary instance (``bench-data --posts 2000
--organisations 10000 --offers 50000``), then reads each directory page through the test
client, one reader alone, and prints the median and 90th percentile time per page and
its SQL statements, as Markdown for ``bench/RESULTS.md``.

    python bench/directory.py [--reads 30] [--database-url URL]

One process, no HTTP: the figures are each page's own cost (database, ORM, templates).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [
    "/directory/",
    "/directory/?page=200",
    "/directory/?region=11&kind=cooperative",
    "/directory/?offres=1&departement=93",
    "/directory/?q=solidarite",
    "/offers/",
    "/offers/?page=1000",
    "/offers/?type=need&region=84&category=formation",
    "/offers/?q=vacances",
    "/organisations/{org}",
    "/offers/{need}",
    "/offers/{need}/matches",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="forum-directory-bench-")
    os.environ["FORUM_INSTANCE_PATH"] = instance
    from flask_migrate import upgrade

    from forum import create_app
    from forum.directory.models import Offer, Organisation
    from forum.extensions import db

    url = args.database_url or f"sqlite:///{instance}/forum.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-long-enough-0123456789",
            "FORUM_RATE_LIMITS": "off",
        }
    )
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(
        args=[
            "forum",
            "bench-data",
            "--posts",
            "2000",
            "--organisations",
            "10000",
            "--offers",
            "50000",
        ]
    )
    print(result.output.strip(), f"({time.perf_counter() - started:.1f} s)")
    with app.app_context():
        org = db.session.execute(select(Organisation.slug).limit(1)).scalar_one()
        need = db.session.execute(
            select(Offer.id).where(Offer.kind == "need", Offer.scope == "regional").limit(1)
        ).scalar_one()
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    client = app.test_client()
    print("\n| page | p50 ms | p90 ms | queries |\n| --- | ---: | ---: | ---: |")
    for pattern in PAGES:
        page = pattern.format(org=org, need=need)
        assert client.get(page).status_code == 200, page
        times = []
        for _ in range(args.reads):
            statements.clear()
            begin = time.perf_counter()
            client.get(page)
            times.append((time.perf_counter() - begin) * 1000)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"| `{page}` | {statistics.median(times):.1f} | {p90:.1f} | {len(statements)} |")


if __name__ == "__main__":
    main()
