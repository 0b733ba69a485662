"""Request ids, the access log (text or JSON) and ``/metrics`` in Prometheus format."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from forum.db import utcnow
from forum.extensions import db
from forum.notifications.models import OutboxMail
from forum.observability import access_log

ROOT = Path(__file__).resolve().parents[1]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines():
    handler = Lines()
    access_log.addHandler(handler)
    yield handler.lines
    access_log.removeHandler(handler)


def test_every_response_carries_its_own_request_id_and_one_log_line(client, access_lines):
    first, second = client.get("/"), client.get("/themes/urbain")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    assert len(access_lines) == 2
    assert f"request_id={ids[0]}" in access_lines[0]
    assert "route=/themes/<slug> status=200" in access_lines[1]


def test_json_log_lines(make_app, access_lines):
    app = make_app(FORUM_LOG_FORMAT="json")
    response = app.test_client().get("/threads/424242")
    fields = json.loads(access_lines[-1])
    assert fields["request_id"] == response.headers["X-Request-Id"]
    assert fields["status"] == 404
    assert fields["route"] == "/threads/<int:thread_id>"
    assert fields["path"] == "/threads/424242" and fields["method"] == "GET"
    assert isinstance(fields["ms"], float)


def test_error_pages_show_the_request_id_to_quote(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    for url, code in (("/threads/424242", 404), ("/boom", 500)):
        response = client.get(url)
        assert response.status_code == code
        request_id = response.headers["X-Request-Id"]
        page = response.get_data(as_text=True)
        assert request_id in page and "indiquez cette référence" in page
    api = client.get("/threads/424242", headers={"Accept": "application/json"})
    assert api.get_json()["error"]["request_id"] == api.headers["X-Request-Id"]


def test_a_proxys_request_id_is_kept_only_behind_trusted_proxies(make_app):
    direct = make_app().test_client()
    assert (
        direct.get("/", headers={"X-Request-Id": "from-outside-1234"}).headers["X-Request-Id"]
        != "from-outside-1234"
    )
    proxied = make_app(FORUM_PROXY_COUNT=1).test_client()
    kept = proxied.get("/", headers={"X-Request-Id": "nginx-abcdef123456"})
    assert kept.headers["X-Request-Id"] == "nginx-abcdef123456"
    odd = proxied.get("/", headers={"X-Request-Id": "<script>"})
    assert odd.headers["X-Request-Id"] != "<script>"


def test_metrics_are_off_unless_configured(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_count_requests_latency_and_the_mail_queue(make_app):
    app = make_app(FORUM_METRICS=True)
    client = app.test_client()
    with app.app_context():
        old = utcnow() - timedelta(minutes=10)
        for n in range(2):
            db.session.add(
                OutboxMail(
                    to_address=f"m{n}@exemple.org",
                    subject="Sujet",
                    text_body="Texte",
                    html_body="<p>Texte</p>",
                    created_at=old,
                )
            )
        db.session.add(
            OutboxMail(
                to_address="envoye@exemple.org",
                subject="Sujet",
                text_body="Texte",
                html_body="<p>Texte</p>",
                created_at=old - timedelta(days=1),
                sent_at=old,
            )
        )
        db.session.commit()
    before = _sample(client.get("/metrics").get_data(as_text=True), _THEME_OK)
    client.get("/themes/urbain")
    client.get("/themes/urbain")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.get_data(as_text=True)
    assert _sample(text, _THEME_OK) == before + 2
    assert 'forum_request_duration_seconds_bucket{le="0.5",route="/themes/<slug>"}' in text
    assert _sample(text, "forum_mail_queue_depth") == 2
    assert 600 <= _sample(text, "forum_mail_oldest_unsent_age_seconds") < 700


_THEME_OK = 'forum_requests_total{method="GET",route="/themes/<slug>",status="200"}'


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


#: One gunicorn worker's worth: a request, in a process of its own.
WORKER = """
import sys
from tests.conftest import base_config
from forum import create_app
url, instance = sys.argv[1], sys.argv[2]
app = create_app(base_config(url, instance, FORUM_METRICS=True))
client = app.test_client()
client.get("/themes/urbain")
if sys.argv[3] == "scrape":
    print(client.get("/metrics").get_data(as_text=True))
"""


def test_metrics_add_up_across_worker_processes(app, tmp_path):
    """prometheus-client's multiprocess mode, as gunicorn workers use it."""
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    args = [app.config["SQLALCHEMY_DATABASE_URI"], os.environ["FORUM_INSTANCE_PATH"]]
    outputs = [
        subprocess.run(
            [sys.executable, "-c", WORKER, *args, step],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        ).stdout
        for step in ("request", "request", "scrape")
    ]  # fmt: skip
    assert _sample(outputs[-1], _THEME_OK) == 3
    assert _sample(outputs[-1], "forum_mail_queue_depth") == 0
