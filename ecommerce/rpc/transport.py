"""How an internal call reaches the role that owns the contract.

``HttpTransport`` is the production path: pooled connections per target, one time budget per call that its retries
share (so a caller waits at most ``ECOMMERCE_RPC_TIMEOUT_SECONDS``, however the attempts fail), bounded retries only
where a retry cannot do the work twice, and a circuit breaker per target so a dead role fails fast. Calls to one
target run concurrently: nothing is locked while a request is on the wire (see ``ecommerce.rpc.breaker``).
``LoopbackTransport`` sends the same signed bytes through the in-process internal endpoint; tests use it to prove
that every contract survives serialisation without opening a socket. It resolves the call against the internal
route alone (``ecommerce.rpc.urls``), which no public URLconf includes."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from typing import Any, Protocol

import httpx
from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential

from ecommerce import deployment
from ecommerce.errors import ServiceTimeout, ServiceUnavailable
from ecommerce.logging import current_request_id
from ecommerce.rpc import metrics as rpc_metrics
from ecommerce.rpc import signing
from ecommerce.rpc.breaker import CircuitBreaker, CircuitOpen

logger = logging.getLogger(__name__)

INTERNAL_RPC_PREFIX = "/internal/rpc"
INTERNAL_URLCONF = "ecommerce.rpc.urls"


def rpc_path(service: str, method: str) -> str:
    return f"{INTERNAL_RPC_PREFIX}/{service}/{method}"


class Transport(Protocol):
    def call(self, *, service: str, method: str, body: bytes, idempotent: bool) -> tuple[int, Any]: ...


def _signed_headers(path: str, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **signing.sign("POST", path, body)}
    request_id = current_request_id()
    if request_id:
        headers["X-Request-ID"] = request_id
    return headers


class LoopbackTransport:
    def call(self, *, service: str, method: str, body: bytes, idempotent: bool) -> tuple[int, Any]:
        from django.test import RequestFactory
        from django.urls import resolve

        path = rpc_path(service, method)
        request = RequestFactory().post(path, data=body, content_type="application/json",
                                        headers=_signed_headers(path, body))
        route = resolve(path, urlconf=INTERNAL_URLCONF)
        response = route.func(request, *route.args, **route.kwargs)
        return response.status_code, json.loads(response.content or b"null")


class _ServerError(Exception):
    """A 5xx from the target: counts against its circuit breaker."""


class _BudgetSpent(httpx.TimeoutException):
    """The call's time budget ran out before another attempt could start."""


def _is_safe_to_retry(idempotent: bool):
    def predicate(error: BaseException) -> bool:
        if isinstance(error, _BudgetSpent):
            return False
        # A refused connection never reached the service, so even a write may be sent again.
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return True
        return idempotent and isinstance(error, httpx.TransportError | _ServerError)

    return predicate


def _counts_against_target(error: BaseException) -> bool:
    return isinstance(error, httpx.TransportError | _ServerError)


# Connections are opened per target and kept; a request never waits long for one (the pool is sized well above the
# threads of a process), and the connect phase gets at most this much of the budget.
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_SECONDS = 2.0
# An idle connection is dropped by the caller well before the callee would close it (gunicorn's keep-alive, 5 s) or
# stop serving it (its drain when stopping, config/gunicorn_hooks.py), so a request is never sent on a connection
# the other end is closing.
KEEPALIVE_EXPIRY_SECONDS = 1.0


class HttpTransport:
    def __init__(self, service: str, base_url: str) -> None:
        self.service = service
        self.budget = settings.ECOMMERCE_RPC_TIMEOUT_SECONDS
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(self.budget, connect=min(self.budget, CONNECT_TIMEOUT_SECONDS)),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS,
                                keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS),
        )
        self.breaker = CircuitBreaker(fail_max=5, reset_timeout=10, name=f"rpc:{service}",
                                      on_change=functools.partial(rpc_metrics.circuit_state_changed, service))

    def _send(self, path: str, body: bytes, deadline: float) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _BudgetSpent("no time left for another attempt")
        timeout = httpx.Timeout(remaining, connect=min(remaining, CONNECT_TIMEOUT_SECONDS))
        with self.breaker.guard(_counts_against_target):
            response = self.client.post(path, content=body, headers=_signed_headers(path, body), timeout=timeout)
            if response.status_code >= 500:
                raise _ServerError(response)
        return response

    def call(self, *, service: str, method: str, body: bytes, idempotent: bool) -> tuple[int, Any]:
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            status, payload = self._call(service=service, method=method, body=body, idempotent=idempotent)
            outcome = "ok" if status == 200 else "error"
            return status, payload
        except ServiceTimeout:
            outcome = "timeout"
            raise
        except ServiceUnavailable as error:
            outcome = "circuit_open" if isinstance(error.__cause__, CircuitOpen) else "unavailable"
            raise
        finally:
            rpc_metrics.RPC_SECONDS.labels(service, method, outcome).observe(time.perf_counter() - started)
            if outcome not in {"ok", "error"}:
                rpc_metrics.RPC_FAILURES.labels(service, outcome).inc()

    def _call(self, *, service: str, method: str, body: bytes, idempotent: bool) -> tuple[int, Any]:
        path = rpc_path(service, method)
        # Every attempt gets only what is left of one budget, so retries never stretch a caller's wait beyond it.
        deadline = time.monotonic() + self.budget
        retrying = Retrying(
            stop=stop_after_attempt(3) | stop_after_delay(self.budget),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            retry=retry_if_exception(_is_safe_to_retry(idempotent)),
            reraise=True,
        )
        try:
            response = retrying(self._send, path, body, deadline)
        except CircuitOpen as error:
            raise ServiceUnavailable(f"The {service} service is unavailable.") from error
        except httpx.TimeoutException as error:
            logger.warning("rpc timeout calling %s.%s", service, method)
            raise ServiceTimeout(f"The {service} service did not answer in time.") from error
        except (httpx.TransportError, _ServerError) as error:
            logger.warning("rpc failure calling %s.%s: %s", service, method, type(error).__name__)
            raise ServiceUnavailable(f"The {service} service is unavailable.") from error
        try:
            return response.status_code, response.json()
        except ValueError as error:
            raise ServiceUnavailable(f"The {service} service gave an unreadable answer.") from error


    def close(self) -> None:
        self.client.close()


# One transport per service, so connections are pooled and each target has one circuit breaker; forgotten (and
# closed) whenever the deployment changes.
_transports: dict[str, HttpTransport] = {}
_transports_lock = threading.Lock()


def get_transport(service: str) -> Transport:
    if deployment.loopback():
        return LoopbackTransport()
    with _transports_lock:
        transport = _transports.get(service)
        if transport is None:
            base_url = deployment.service_url(service)
            if not base_url:
                raise ServiceUnavailable(f"No address is configured for the {service} service.")
            transport = _transports[service] = HttpTransport(service, base_url)
        return transport


def _forget_transports() -> None:
    with _transports_lock:
        forgotten = list(_transports.values())
        _transports.clear()
    for transport in forgotten:
        transport.close()


deployment.register_cache(_forget_transports)
