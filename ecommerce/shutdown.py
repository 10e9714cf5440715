"""Draining: what a serving process does between being told to stop (SIGTERM) and stopping.

Rule guarded here: a process that is stopping keeps answering for ``GUNICORN_DRAIN_SECONDS`` while its readiness
answers 503 ("shutting_down") and every answer closes its connection, so load balancers (Kubernetes endpoints, a
test's balancer) stop sending it new work and no client keeps a connection to it; only then does gunicorn stop
accepting and let the requests in flight finish (``graceful_timeout``). The hooks that drive this are in
``config/gunicorn_hooks.py``; readiness asks :func:`draining`."""

from __future__ import annotations

import threading

_draining = threading.Event()


def begin_drain() -> None:
    _draining.set()


def draining() -> bool:
    return _draining.is_set()
