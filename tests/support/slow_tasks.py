"""A task that takes a while and leaves a trace of each completed run, for the worker shutdown tests. Loaded only
into the test's worker processes (``celery worker --include``), never by the shop."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.slow_task")
def slow_task(*, seconds: float, started_path: str, done_path: str) -> None:
    with Path(started_path).open("a") as started:
        started.write("started\n")
    time.sleep(seconds)
    with Path(done_path).open("a") as done:
        done.write("done\n")
