"""Every response carries ``X-Request-ID``: the caller's (if sane) or a new UUID, bound for logging with the route
and, once authenticated, the caller; and every request ends with one log line (``ecommerce.request``) saying how it
went: method, route, status and duration."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from ecommerce.logging import bind_request, bind_route, unbind_request
from ecommerce.tracing import tag_request

REQUEST_ID_HEADER = "X-Request-ID"
# Accept what a proxy or client would reasonably send; anything else could poison logs, so replace it.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Probes arrive every few seconds from every kubelet; their lines are kept out of the INFO stream.
_PROBE_PATHS = frozenset({"/healthz", "/readyz"})

request_logger = logging.getLogger("ecommerce.request")


class RequestIDMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = bind_request(request_id)
        tag_request(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            log_request(request.method, request.path, response.status_code, started)
            return response
        except Exception:
            log_request(request.method, request.path, 500, started)
            raise
        finally:
            unbind_request(token)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> None:
        match = request.resolver_match
        if match is not None:
            bind_route(match.route)


def request_id_for(incoming: str) -> str:
    """The caller's request id if it is sane, else a new one."""
    return incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else str(uuid.uuid4())


def log_request(method: str, path: str, status: int, started: float) -> None:
    """The one line every request ends with (``started`` is its ``time.perf_counter()``)."""
    level = logging.ERROR if status >= 500 else logging.INFO
    if path in _PROBE_PATHS and status < 500:
        level = logging.DEBUG
    if not request_logger.isEnabledFor(level):
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    request_logger.log(level, "%s %s %s %.1fms", method, path, status, duration_ms,
                       extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms})
