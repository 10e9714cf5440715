"""Fixtures for tests that need the real broker, an SMTP server, a proxy to cut, or worker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.deployment import free_port
from tests.support.broker import broker_address, fresh_namespace, remove_namespace, require_broker
from tests.support.smtp import SmtpServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.workers import CeleryWorker


@pytest.fixture
def rabbitmq(settings: Any) -> Iterator[str]:
    """The broker of CELERY_BROKER_URL, with an exchange and queue namespace of this test's own."""
    url = require_broker()
    settings.CELERY_BROKER_URL = url
    settings.ECOMMERCE_BROKER_NAMESPACE = fresh_namespace(settings.ECOMMERCE_BROKER_NAMESPACE)
    namespace = settings.ECOMMERCE_BROKER_NAMESPACE
    yield url
    settings.ECOMMERCE_BROKER_NAMESPACE = namespace
    remove_namespace(url, namespace)


@pytest.fixture
def broker_proxy(rabbitmq: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(*broker_address(rabbitmq))
    yield proxy
    proxy.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer(free_port()) as server:
        yield server


@pytest.fixture
def start_worker(settings: Any, transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., CeleryWorker]]:
    """Start real worker processes on this test's database and broker namespace; all are stopped afterwards."""
    started: list[CeleryWorker] = []

    def start(*, broker_url: str | None = None, env: dict[str, str] | None = None,
              include: tuple[str, ...] = ()) -> CeleryWorker:
        worker = CeleryWorker(broker_url=broker_url or settings.CELERY_BROKER_URL,
                              namespace=settings.ECOMMERCE_BROKER_NAMESPACE,
                              log_path=tmp_path / f"worker-{len(started)}.log", env=env, include=include)
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()
