"""Liveness and readiness. Readiness checks what this process needs to serve traffic and names what failed.

Serving needs the database and the cache. The broker does not belong there: without it requests still succeed
(events wait in the outbox, tasks are retried), so a broker outage must never take a process out of service. It
degrades background work instead, which the answer reports next to the checks: the broker's state and the outbox
backlog (how many events wait, and how long the oldest has), for dashboards and alerts rather than for probes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from ecommerce.shutdown import draining

logger = logging.getLogger(__name__)

BROKER_PROBE_TIMEOUT_SECONDS = 1.0
# Probes come every few seconds from every pod; one connection attempt per process per interval is plenty.
BROKER_STATE_TTL_SECONDS = 10.0


def _check_database() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz-probe", "1", timeout=5)
    if cache.get("readyz-probe") != "1":
        raise RuntimeError("cache did not return what was written")


CHECKS: dict[str, Callable[[], None]] = {"database": _check_database, "cache": _check_cache}


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def run_check(name: str, check: Callable[[], None]) -> str:
    """"ok" or "unavailable"; why it failed goes to the log, never to the caller."""
    try:
        check()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", and the name says where
        logger.warning("readiness check %s failed: %s", name, type(error).__name__)
        return "unavailable"
    return "ok"


_broker_state: tuple[str, str, float] | None = None  # (broker url, state, when)
_broker_lock = threading.Lock()


def _probe_broker(url: str) -> str:
    with Connection(url, connect_timeout=BROKER_PROBE_TIMEOUT_SECONDS) as broker:
        try:
            broker.ensure_connection(max_retries=0)  # one attempt, no back-off: the probe must answer quickly
        except Exception as error:  # noqa: BLE001 - any failure means the broker cannot take messages now
            logger.warning("broker unreachable: %s", type(error).__name__)
            return "unavailable"
    return "ok"


def broker_state() -> str:
    """"ok", "unavailable", or "not_configured" (tasks and events then run in-process)."""
    global _broker_state
    url = settings.CELERY_BROKER_URL
    if not url:
        return "not_configured"
    with _broker_lock:
        cached = _broker_state
        if cached and cached[0] == url and time.monotonic() - cached[2] < BROKER_STATE_TTL_SECONDS:
            return cached[1]
        state = _probe_broker(url)
        _broker_state = (url, state, time.monotonic())
        return state


def background_report() -> dict[str, Any]:
    """The state of background work: never a reason to be unready, always worth showing."""
    report: dict[str, Any] = {"broker": broker_state()}
    if apps.is_installed("ecommerce.events") and _has_database():
        try:
            from ecommerce.events.outbox import outbox_backlog

            backlog = outbox_backlog()
            report["outbox"] = {"pending": backlog.pending, "oldest_age_seconds": backlog.oldest_age_seconds}
        except Exception as error:  # noqa: BLE001 - the database check already says what is wrong
            logger.warning("outbox backlog unavailable: %s", type(error).__name__)
            report["outbox"] = "unavailable"
    return report


def _has_database() -> bool:
    return any(connections[alias].settings_dict["ENGINE"] != "django.db.backends.dummy" for alias in connections)


def readiness_answer(results: dict[str, str], background: dict[str, Any] | None = None) -> JsonResponse:
    """200 when every check is "ok", else 503 problem details naming what failed. A process that is stopping is
    never ready, whatever else answers (ecommerce/shutdown.py)."""
    if draining():
        results = {**results, "shutdown": "shutting_down"}
    failed = [name for name, state in results.items() if state != "ok"]
    extra = {"background": background} if background is not None else {}
    if failed:
        body = {
            "type": "/problems/service_unavailable", "title": "Not ready", "status": 503,
            "detail": "Unavailable: " + ", ".join(failed) + ".", "code": "service_unavailable", "checks": results,
            **extra,
        }
        return JsonResponse(body, status=503, content_type="application/problem+json")
    return JsonResponse({"status": "ok", "checks": results, **extra})


def readyz(request: HttpRequest) -> JsonResponse:
    return readiness_answer({name: run_check(name, check) for name, check in CHECKS.items()}, background_report())
