"""gunicorn settings for the forum's web processes (see docs/deploy.md).

``gunicorn --config deploy/gunicorn.conf.py wsgi:app``; a ``--bind`` on the command
line wins over the one here. With ``PROMETHEUS_MULTIPROC_DIR`` set to an empty folder,
``/metrics`` adds up every worker's counts.
"""

import multiprocessing
import os

bind = "127.0.0.1:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
timeout = 30
graceful_timeout = 20
accesslog = None  # the forum writes its own line per request, with its request id
errorlog = "-"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
