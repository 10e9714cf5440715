"""Work a request owes but its answer does not depend on, run once the answer has been sent.

``after_response(work)`` inside a request served by Django's handler (a WSGI server, or the test client) queues
``work`` for this thread; it runs when the server closes the response (Django's ``request_finished``), which a WSGI
server does after the last byte went out, still in the request's thread. Anywhere else (a task, a command, the
in-process scheduler, a contract called directly) it runs at once. The client stops waiting for it, nothing else
changes: the thread serves nothing meanwhile, so what the work costs is still paid by this process.

Only work that is safe to lose belongs here: a process that dies after answering never runs its queue, so the work
must be recorded durably before the answer and redone by a sweep (as the orders follow-ups are). A failure is logged,
never raised into the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished, request_started

logger = logging.getLogger(__name__)

_local = threading.local()


def after_response(work: Callable[[], Any]) -> None:
    queue: list[Callable[[], Any]] | None = getattr(_local, "queue", None)
    if queue is None:
        work()
    else:
        queue.append(work)


def _open_queue(**_: Any) -> None:
    _local.queue = []


def _run_queue(**_: Any) -> None:
    queue: list[Callable[[], Any]] | None = getattr(_local, "queue", None)
    _local.queue = None
    for work in queue or ():
        try:
            work()
        except Exception:
            logger.exception("work after the response failed; what it owed is left to its sweep")


request_started.connect(_open_queue, dispatch_uid="ecommerce.after_response.open")
request_finished.connect(_run_queue, dispatch_uid="ecommerce.after_response.run")
