"""Readiness of a split deployment's gateway: its own cache, and every role it calls.

A role is ready when its own ``/readyz`` answers 200 (its database and cache answer; the broker is reported, not
required). Probes run in parallel with a short timeout, so a dead or frozen role makes the gateway answer 503 naming
that role within about a second instead of hanging the probe; as soon as the role answers again the gateway is ready
again, with no restart. The gateway has no database of its own, so the database check is left out there."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse

from ecommerce import deployment, health

PROBE_TIMEOUT_SECONDS = 1.0


def _has_database() -> bool:
    return any(connections[alias].settings_dict["ENGINE"] != "django.db.backends.dummy" for alias in connections)


def _probe(base_url: str) -> Callable[[], None]:
    def check() -> None:
        timeout = min(PROBE_TIMEOUT_SECONDS, settings.ECOMMERCE_RPC_TIMEOUT_SECONDS)
        response = httpx.get(f"{base_url.rstrip('/')}/readyz", timeout=timeout)
        if response.status_code != 200:
            raise RuntimeError(f"answered {response.status_code}")

    return check


def checks() -> dict[str, Callable[[], None]]:
    own = {name: check for name, check in health.CHECKS.items() if name != "database" or _has_database()}
    peers = {role: _probe(url) for role, url in deployment.peer_urls().items()}
    return {**own, **peers}


def _run_in_pool_thread(name: str, check: Callable[[], None]) -> str:
    try:
        return health.run_check(name, check)
    finally:
        # Checks run in short-lived pool threads: whatever connection one opened must not outlive it.
        connections.close_all()


def _background_in_pool_thread() -> dict[str, Any]:
    try:
        return health.background_report()
    finally:
        connections.close_all()


def gateway_readyz(request: HttpRequest) -> JsonResponse:
    named = checks()
    with ThreadPoolExecutor(max_workers=max(1, len(named))) as pool:
        futures = {name: pool.submit(_run_in_pool_thread, name, check) for name, check in named.items()}
        background = pool.submit(_background_in_pool_thread)
        results = {name: future.result() for name, future in futures.items()}
        return health.readiness_answer(results, background.result())
