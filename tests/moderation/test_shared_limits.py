"""Rate limits shared through Redis: every worker, on every machine, counts in one place.

A second worker is a real second process (its own Flask-Limiter, its own memory) on the
same database: with ``FORUM_REDIS_URL`` its attempts count with this one's; without, each
worker counts alone, which is why logins are also throttled per account in the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import redis

from forum.extensions import limiter

ROOT = Path(__file__).resolve().parents[2]

#: Three failed logins from another process, then what it was answered.
OTHER_WORKER = """
import json, sys
from tests.conftest import ForumClient, base_config
from forum import create_app
url, instance, redis_url = sys.argv[1], sys.argv[2], sys.argv[3] or None
app = create_app(base_config(url, instance, FORUM_RATE_LIMITS="default", FORUM_REDIS_URL=redis_url))
app.test_client_class = ForumClient
client = app.test_client()
token = client.csrf_token()
codes = [
    client.post("/auth/login", data={"login": f"w{n}", "password": "faux", "csrf_token": token}).status_code
    for n in range(3)
]
print(json.dumps(codes))
"""


def _other_worker(app, redis_url) -> list[int]:
    answer = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, app.config["SQLALCHEMY_DATABASE_URI"],
         os.environ["FORUM_INSTANCE_PATH"], redis_url or ""],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(answer.stdout.strip().splitlines()[-1])


def test_login_attempts_from_two_workers_count_together_with_redis(make_app, redis_url):
    app = make_app(FORUM_RATE_LIMITS="default", FORUM_REDIS_URL=redis_url)
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    token = client.csrf_token()

    def attempt(n: int) -> int:
        data = {"login": f"x{n}", "password": "faux", "csrf_token": token}
        return client.post("/auth/login", data=data).status_code

    assert [attempt(n) for n in range(3)] == [400] * 3
    assert _other_worker(app, redis_url) == [400] * 3  # six in a minute: still allowed
    seventh = attempt(7)
    if redis_url:
        assert seventh == 429  # the 7th in a minute, whichever worker got the six others
        keys = redis.Redis.from_url(redis_url).keys("LIMITS*")
        assert keys, "the counters live in Redis"
    else:
        assert seventh == 400  # each worker counts alone without Redis


def test_with_redis_down_limits_fall_back_to_memory_and_pages_are_served(make_app):
    app = make_app(
        FORUM_RATE_LIMITS="default",
        FORUM_REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
        FORUM_PAGE_CACHE_SECONDS=60,
    )
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200 and home.headers["X-Page-Cache"] == "miss"
    assert client.get("/").status_code == 200
    token = client.csrf_token()
    codes = [
        client.post(
            "/auth/login", data={"login": f"x{n}", "password": "faux", "csrf_token": token}
        ).status_code
        for n in range(7)
    ]
    assert codes == [400] * 6 + [429]
    app.config["RATELIMIT_ENABLED"] = False  # nothing to empty in a Redis that is not there
