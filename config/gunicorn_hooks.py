"""gunicorn server hooks of every role (imported by ``config/gunicorn.py``): graceful shutdown and multi-process
metrics.

Shutdown: a worker told to stop (SIGTERM, from the master or to the process group) first drains for
``GUNICORN_DRAIN_SECONDS`` (``ecommerce/shutdown.py``: readiness 503, every answer closes its connection, requests
still served), then stops as gunicorn does: no new connections, requests in flight finish within
``graceful_timeout``, which counts from the SIGTERM and so must exceed the drain plus the longest request.

Metrics: every worker of a server writes its Prometheus samples to ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory
of the server's own unless the environment names one), emptied when the server starts; a worker that exits is
marked dead so its gauges stop counting."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

DRAIN_SECONDS = float(os.environ.get("GUNICORN_DRAIN_SECONDS", "5"))


_OWN_DIRECTORY = "SHOP_OWN_METRICS_DIR"


def prepare_metrics_directory() -> str:
    """Called when the configuration is read, in the master, before any worker imports prometheus-client."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="shop-metrics-")
        os.environ[_OWN_DIRECTORY] = directory
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def on_starting(server: Any) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    # Samples of a previous run would be added to this one's.
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def on_exit(server: Any) -> None:
    own = os.environ.get(_OWN_DIRECTORY)
    if own and own == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(own, ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    from ecommerce.shutdown import begin_drain, draining

    stop = worker.handle_exit

    def drain_then_stop(signum: int, frame: Any) -> None:
        if draining():
            return
        begin_drain()
        worker.log.info("draining for %.1fs before stopping", DRAIN_SECONDS)
        timer = threading.Timer(DRAIN_SECONDS, stop, args=(signum, None))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, drain_then_stop)


def pre_request(worker: Any, request: Any) -> None:
    from ecommerce.shutdown import draining

    if draining():
        # The answer tells the client to close: it reconnects, and the balancer sends it elsewhere.
        request.must_close = True
