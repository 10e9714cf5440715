"""Liveness and readiness. Readiness checks what this process needs to serve traffic and names what failed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def _check_database() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz-probe", "1", timeout=5)
    if cache.get("readyz-probe") != "1":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    if not settings.CELERY_BROKER_URL:
        return
    # The project's Celery app is the current one (the deployment's configuration creates it); the kernel never
    # imports that configuration.
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


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


def readiness_answer(results: dict[str, str]) -> JsonResponse:
    """200 when every check is "ok", else 503 problem details naming what failed."""
    failed = [name for name, state in results.items() if state != "ok"]
    if failed:
        body = {
            "type": "/problems/service_unavailable", "title": "Not ready", "status": 503,
            "detail": "Unavailable: " + ", ".join(failed) + ".", "code": "service_unavailable", "checks": results,
        }
        return JsonResponse(body, status=503, content_type="application/problem+json")
    return JsonResponse({"status": "ok", "checks": results})


def readyz(request: HttpRequest) -> JsonResponse:
    return readiness_answer({name: run_check(name, check) for name, check in CHECKS.items()})
