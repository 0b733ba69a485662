"""The worker loop: ``flask forum worker`` sends mail and runs jobs until told to stop.

Each turn enqueues the periodic jobs of the hour (once per key across every worker),
runs the due jobs, then sends the due mails; when a turn found nothing to do, the
worker waits ``FORUM_WORKER_POLL`` seconds. Several workers on several machines
share one database safely (claims with a lease, see :mod:`forum.jobs.services` and
:mod:`forum.notifications.mail`). SIGTERM or Ctrl-C lets the current mail or job
finish, then stops.
"""

from __future__ import annotations

import threading

from flask import Flask

from forum.extensions import db
from forum.jobs import services


def run_worker(app: Flask, stop: threading.Event, *, poll: float | None = None) -> None:
    """Work until ``stop`` is set. Errors (a database restarting…) are logged, not fatal."""
    poll = app.config["FORUM_WORKER_POLL"] if poll is None else poll
    services.load_handlers()
    known: set[str] = set()
    while not stop.is_set():
        busy = False
        with app.app_context():
            try:
                busy = turn(app, known, stop)
            except Exception:
                db.session.rollback()
                app.logger.exception("worker turn failed; trying again in %s s", poll)
            finally:
                db.session.remove()
        if not busy:
            stop.wait(poll)


def turn(app: Flask, known: set[str], stop: threading.Event | None = None) -> bool:
    """One turn of work; True when there was some (the next turn starts at once)."""
    from forum.notifications import mail

    services.schedule(known=known)
    if len(known) > 100:  # keys of past hours: forget them
        known.clear()
    jobs = services.run_jobs(limit=10)
    sent, _failed = mail.deliver(limit=app.config["FORUM_WORKER_BATCH"], stop=stop)
    return bool(jobs or sent)
