"""A worker told to stop (SIGTERM, as Kubernetes does) finishes the task it is running before it exits; a worker
that dies mid-task (SIGKILL, a lost node) leaves the task to be delivered again, because tasks are acknowledged
only once they are done (``CELERY_TASK_ACKS_LATE``, ``CELERY_TASK_REJECT_ON_WORKER_LOST``). Real worker processes on
the real broker, with a slow task loaded into them only (tests/support/slow_tasks.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from tests.support.workers import CeleryWorker, message_count

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_TASKS = ("tests.support.slow_tasks",)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _send_slow_task(broker_url: str, queue: str, tmp_path: Path, seconds: float) -> str:
    sender = Celery(broker=broker_url)
    try:
        result = sender.send_task("tests.slow_task", queue=queue, kwargs={
            "seconds": seconds, "started_path": str(tmp_path / "started"), "done_path": str(tmp_path / "done")})
    finally:
        sender.close()
    return result.id


def test_a_worker_told_to_stop_finishes_its_task_first(rabbitmq: str, settings: Any, tmp_path: Path,
                                                       start_worker: Callable[..., CeleryWorker]) -> None:
    queue = f"{settings.ECOMMERCE_BROKER_NAMESPACE}celery"
    worker = start_worker(include=SLOW_TASKS)
    worker.wait_consuming([queue])
    task_id = _send_slow_task(rabbitmq, queue, tmp_path, seconds=3)
    assert _wait_for(lambda: _lines(tmp_path / "started") == 1, timeout=30), worker.log_tail()

    worker.terminate()

    assert worker.popen is not None
    assert worker.popen.wait(timeout=30) == 0, worker.log_tail()
    assert _lines(tmp_path / "done") == 1
    assert message_count(rabbitmq, queue) == 0
    # The worker's lines are the shop's JSON lines, those of the task naming it.
    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    assert lines
    assert {line["service"] for line in lines} == {"shop-monolith"}
    assert any(line["task_id"] == task_id and line["task"] == "tests.slow_task" for line in lines)


def test_a_task_whose_worker_died_is_delivered_again_and_done(rabbitmq: str, settings: Any, tmp_path: Path,
                                                              start_worker: Callable[..., CeleryWorker]) -> None:
    queue = f"{settings.ECOMMERCE_BROKER_NAMESPACE}celery"
    first = start_worker(include=SLOW_TASKS)
    first.wait_consuming([queue])
    _send_slow_task(rabbitmq, queue, tmp_path, seconds=3)
    assert _wait_for(lambda: _lines(tmp_path / "started") == 1, timeout=30), first.log_tail()

    first.kill()
    second = start_worker(include=SLOW_TASKS)

    assert _wait_for(lambda: _lines(tmp_path / "done") == 1, timeout=60), second.log_tail()
    assert _lines(tmp_path / "started") == 2
    assert _wait_for(lambda: message_count(rabbitmq, queue) == 0, timeout=10)
