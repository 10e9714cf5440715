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
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        token = bind_request(request_id)
        tag_request(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response.status_code, started)
            return response
        except Exception:
            self._log(request, 500, started)
            raise
        finally:
            unbind_request(token)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> None:
        match = request.resolver_match
        if match is not None:
            bind_route(match.route)

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        level = logging.ERROR if status >= 500 else logging.INFO
        if request.path in _PROBE_PATHS and status < 500:
            level = logging.DEBUG
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        request_logger.log(level, "%s %s %s %.1fms", request.method, request.path, status, duration_ms,
                           extra={"method": request.method, "path": request.path, "status": status,
                                  "duration_ms": duration_ms})
