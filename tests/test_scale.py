"""Two app nodes and two workers on one PostgreSQL and one Redis (bench/scale.py, small).

The same code as ``make scale-test``, with fewer writers: a session and the login lock
span both nodes, each node's anonymous page cache follows writes made on the other, and
neither a node nor a worker killed with SIGKILL loses or doubles a reply or a mail.
"""

from __future__ import annotations

import os

import pytest

from bench import scale
from tests.conftest import PG_URL, REDIS_URL, skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_two_nodes_two_workers(monkeypatch, capsys):
    if not PG_URL:
        skip_or_fail("PostgreSQL not configured: set FORUM_TEST_DATABASE_URL")
    if not REDIS_URL:
        skip_or_fail("Redis not configured: set FORUM_TEST_REDIS_URL")
    monkeypatch.setenv("FORUM_SCALE_DATABASE_URL", PG_URL)
    monkeypatch.setenv("FORUM_SCALE_REDIS_URL", REDIS_URL)
    for name in ("FORUM_RATE_LIMITS", "FORUM_PAGE_CACHE_SECONDS", "FORUM_METRICS"):
        monkeypatch.delenv(name, raising=False)
    assert os.environ["FORUM_SCALE_DATABASE_URL"].startswith("postgresql")

    results = scale.run(writers=8, replies=3)

    printed = capsys.readouterr().out
    assert results["points"] == {n: True for n in range(1, 7)}, printed
    load = results["load"]
    assert load["lost"] == 0 and load["duplicates"] == 0, printed
    assert load["acknowledged"] + load["found_later"] == 8 * 3, printed
    assert load["stored"] == 8 * 3, printed
    assert 0 < load["killed_after"] < 8 * 3, printed
    mail = results["mail"]
    assert mail["unsent"] == 0 and mail["twice"] == 0, printed
    assert mail["received"] == mail["distinct"] == mail["outbox"] > 8 * 3, printed


def test_a_missing_service_is_named_without_a_traceback(monkeypatch, capsys):
    """``make scale-test`` without Redis (or without a PostgreSQL URL) says what is
    missing in one line and exits 2, before starting anything."""
    monkeypatch.setattr("sys.argv", ["scale.py"])
    monkeypatch.setenv("FORUM_SCALE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    closed = f"redis://127.0.0.1:{scale.free_port()}/1"  # nothing listens there
    monkeypatch.setenv("FORUM_SCALE_REDIS_URL", closed)
    assert scale.main() == 2
    captured = capsys.readouterr()
    assert f"scale-test: Redis does not answer at {closed}" in captured.err
    assert "Traceback" not in captured.err and "logs in" not in captured.out

    monkeypatch.delenv("FORUM_SCALE_DATABASE_URL")
    monkeypatch.delenv("FORUM_TEST_DATABASE_URL", raising=False)
    assert scale.main() == 2
    assert "set FORUM_TEST_DATABASE_URL to a PostgreSQL database" in capsys.readouterr().err
