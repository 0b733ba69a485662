"""Request ids, one log line per request, and ``/metrics`` in Prometheus format.

Every request gets an id (the proxy's ``X-Request-Id`` when behind trusted proxies,
a new one otherwise), sent back in the ``X-Request-Id`` header and shown on error
pages, so a reader can quote it and an operator find the log line. The line goes to
standard error through the ``forum.access`` logger: ``key=value`` pairs, or one JSON
object when ``FORUM_LOG_FORMAT=json``.

``/metrics`` (only with ``FORUM_METRICS=1``, else 404) counts requests by route and
status, a latency histogram by route, and reads the mail outbox when scraped (unsent
mails, age of the oldest). Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory so every worker's counts add up (prometheus-client's multiprocess mode).
Without ``FORUM_METRICS`` nothing is counted and prometheus-client is not even loaded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, abort, current_app, g, request, session
from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db

REQUEST_ID_HEADER = "X-Request-Id"
#: An id received from a trusted proxy is kept only if it looks like one.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,128}$")

access_log = logging.getLogger("forum.access")

_instruments: tuple | None = None


def instruments():
    """(requests counter, latency histogram): made on first use, once per process."""
    global _instruments
    if _instruments is None:
        from prometheus_client import Counter, Histogram

        _instruments = (
            Counter(
                "forum_requests_total", "HTTP requests answered", ["route", "method", "status"]
            ),
            Histogram(
                "forum_request_duration_seconds",
                "Time to answer a request",
                ["route"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
        )
    return _instruments


def _request_id() -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if current_app.config["FORUM_PROXY_COUNT"] > 0 and REQUEST_ID_RE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _start() -> None:
    g.request_id = _request_id()
    g.request_started = time.perf_counter()


def _route() -> str:
    # The rule, not the path: one series per page kind, whatever ids are asked for.
    rule = request.url_rule
    return rule.rule if rule is not None else "(none)"


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or _request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    route = _route()
    if current_app.config["FORUM_METRICS"] and request.endpoint != "static":
        requests, latency = instruments()
        requests.labels(route, request.method, str(response.status_code)).inc()
        latency.labels(route).observe(elapsed)
    fields = {
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "route": route,
        "status": response.status_code,
        "ms": round(elapsed * 1000, 2),
        "bytes": response.calculate_content_length(),
        "cache": response.headers.get("X-Page-Cache", ""),
        "user": session.get("_user_id", "") if session else "",
        "remote": request.remote_addr,
    }
    if current_app.config["FORUM_LOG_FORMAT"] == "json":
        access_log.info(json.dumps(fields, ensure_ascii=False))
    else:
        access_log.info(" ".join(f"{key}={value}" for key, value in fields.items()))
    return response


class OutboxCollector:
    """Read at scrape time: the mails waiting in the outbox, and how long the oldest has."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from forum.notifications.models import OutboxMail

        with self.app.app_context():
            count, oldest = db.session.execute(
                select(func.count(OutboxMail.id), func.min(OutboxMail.created_at)).where(
                    OutboxMail.sent_at.is_(None)
                )
            ).one()
            db.session.remove()
        depth = GaugeMetricFamily("forum_mail_queue_depth", "Mails waiting in the outbox")
        depth.add_metric([], count)
        yield depth
        age = GaugeMetricFamily(
            "forum_mail_oldest_unsent_age_seconds",
            "Age of the oldest mail not yet sent (0 when none waits)",
        )
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield age


def metrics():
    """``/metrics``: the counters of every worker (multiprocess mode) and the outbox."""
    if not current_app.config["FORUM_METRICS"]:
        abort(404)
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    instruments()  # registered, even before the first request is counted
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        body = generate_latest(workers)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector(current_app._get_current_object()))
    return Response(body + generate_latest(outbox), content_type=CONTENT_TYPE_LATEST)


def _configure_log() -> None:
    if access_log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def init_observability(app: Flask) -> None:
    _configure_log()
    # First of all: even a request refused by an earlier hook has its id on its error page.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", metrics)
