"""Real Celery worker processes for tests, on this test run's database and broker namespace.

A worker runs ``celery -A config worker`` exactly as deployed (its tasks and, through the event consumers
bootstep, every event consumer), with ``config.settings.local`` and the environment given: the test database
(committed data only, so tests using it are transactional), the broker URL (perhaps through a proxy the test
controls) and the namespace of the test's own exchange and queues. It runs in its own process group so that a
test can kill it outright."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from kombu import Connection

ROOT = Path(__file__).resolve().parent.parent.parent
_NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE",
                  "ECOMMERCE_DEPLOYMENT_MODE", "ECOMMERCE_SERVICE_ROLE", "ECOMMERCE_SERVICE_URLS",
                  "ECOMMERCE_RPC_LOOPBACK", "ECOMMERCE_TEST_RPC_LOOPBACK", "ECOMMERCE_BROKER_NAMESPACE")


def test_database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


class CeleryWorker:
    def __init__(self, *, broker_url: str, namespace: str, log_path: Path, env: dict[str, str] | None = None,
                 include: tuple[str, ...] = ()) -> None:
        self.broker_url = broker_url
        # Extra task modules only the test's worker loads (tests/support/slow_tasks.py).
        self.include = include
        self.namespace = namespace
        self.log_path = log_path
        self.env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            # With DEBUG off a process refuses development secrets; a worker of a test needs throwaway ones.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "ECOMMERCE_SANDBOX_WEBHOOK_SECRETS": secrets.token_urlsafe(32),
            "DATABASE_URL": test_database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker_url,
            "ECOMMERCE_BROKER_NAMESPACE": namespace,
            "ECOMMERCE_DEPLOYMENT_MODE": "monolith",
            "ECOMMERCE_INPROCESS_SCHEDULER": "0",
            "DJANGO_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        })
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        celery = str(Path(sys.executable).with_name("celery"))
        command = [celery, "-A", "config", "worker", "-l", "info", "--concurrency", "1",
                   "-n", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle",
                   "--without-heartbeat"]
        if self.include:
            command += ["--include", ",".join(self.include)]
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_consuming(self, queue_names: list[str], *, timeout: float = 60.0) -> None:
        """Until every named queue has a consumer (the worker is up and its consumers subscribed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"the worker exited:\n{self.log_tail()}")
            if all(consumer_count(self.broker_url, name) > 0 for name in queue_names):
                return
            time.sleep(0.25)
        raise AssertionError(f"the worker did not consume {queue_names} within {timeout:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no cleanup, no acknowledgement, like a node that died."""
        if self.popen is not None and self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM to the worker's main process alone, as an orchestrator stops a container: a warm shutdown."""
        if self.popen is not None and self.alive():
            os.kill(self.popen.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.popen is None or not self.alive():
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def consumer_count(broker_url: str, queue_name: str) -> int:
    try:
        with Connection(broker_url, connect_timeout=3) as broker:
            _, _, consumers = broker.channel().queue_declare(queue=queue_name, passive=True)
            return consumers
    except Exception:  # noqa: BLE001 - not declared yet: nobody consumes it
        return 0


def message_count(broker_url: str, queue_name: str) -> int:
    with Connection(broker_url, connect_timeout=3) as broker:
        _, messages, _ = broker.channel().queue_declare(queue=queue_name, passive=True)
        return messages


def event_queue_names(namespace: str) -> list[str]:
    """Every consumer's queue and the monolith's task queue: what a monolith worker reads."""
    from ecommerce.events import subscriptions, topology

    return [*(topology.queue_name(s) for s in subscriptions.SUBSCRIPTIONS), f"{namespace}celery"]


def events_settled(broker_url: str, namespace: str, *, quiet_for: float = 1.0, timeout: float = 30.0) -> None:
    """Until every (consumer, event) the outbox owes was handled or given up on, and the worker's queues have stayed
    empty (nothing ready, so the mails those consumers wrote are sent too) for ``quiet_for`` seconds."""
    from ecommerce.events.models import DeadLetter, OutboxEvent, ProcessedEvent
    from ecommerce.events.subscriptions import subscribers_of

    names = event_queue_names(namespace)
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        owed = sum(len(subscribers_of(event_type)) for event_type in OutboxEvent.objects.values_list("type", flat=True))
        settled = ProcessedEvent.objects.count() + DeadLetter.objects.filter(replayed_at=None).count()
        if settled < owed or any(message_count(broker_url, name) for name in names):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_for:
            return
        time.sleep(0.1)
    raise AssertionError(f"the events did not settle within {timeout:.0f}s")
