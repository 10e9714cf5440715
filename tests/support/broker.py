"""RabbitMQ for tests: the broker named by CELERY_BROKER_URL (its vhost, never a hard-coded one), and a namespace of
exchange and queue names of each test's own, removed again afterwards, so runs sharing a vhost never meet."""

from __future__ import annotations

import contextlib
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection

from config.roles import DOMAIN_ROLES
from ecommerce.events import topology
from tests.environment import service_missing

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")


def broker_unreachable_reason() -> str | None:
    if not BROKER_URL.startswith("amqp"):
        return "needs RabbitMQ: set CELERY_BROKER_URL=amqp://..."
    try:
        with Connection(BROKER_URL, connect_timeout=3) as broker:
            broker.connect()
    except Exception as error:  # noqa: BLE001 - any failure means there is no broker to test against
        return f"RabbitMQ at CELERY_BROKER_URL is unreachable ({type(error).__name__})"
    return None


def require_broker() -> str:
    reason = broker_unreachable_reason()
    if reason:
        service_missing(reason)
    return BROKER_URL


def broker_address(url: str = BROKER_URL) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5672


def url_through(port: int, url: str = BROKER_URL) -> str:
    """The same broker URL (credentials, vhost) with the address of a proxy on loopback ``port``."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def fresh_namespace(base: str) -> str:
    return f"{base}{uuid.uuid4().hex[:8]}."


def remove_namespace(url: str, namespace: str) -> None:
    """Delete the topology and Celery's own exchanges and queues declared under ``namespace``."""
    with Connection(url, connect_timeout=5) as broker:
        channel = broker.channel()
        topology.delete(channel)
        task_queues = [f"{namespace}{name}" for name in ("celery", *DOMAIN_ROLES)]
        for queue in task_queues:
            with contextlib.suppress(Exception):
                broker.channel().queue_delete(queue)
        for exchange in (*task_queues, f"{namespace}celery.pidbox", f"{namespace}celeryev",
                         f"reply.{namespace}celery.pidbox"):
            with contextlib.suppress(Exception):
                broker.channel().exchange_delete(exchange)
