"""RFC 9457 problem details for every error the public API can give, including those raised outside DRF views
(unknown URLs, unhandled exceptions). Clients see a stable ``code``; never a traceback, SQL or a host name."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ecommerce.api.parsers import PayloadTooLarge
from ecommerce.errors import ContractError, RemoteServiceError, ValidationFailed

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/problems/"

_DRF_CODES: list[tuple[type[drf.APIException], str, str]] = [
    (drf.NotAuthenticated, "not_authenticated", "Authentication required"),
    (drf.AuthenticationFailed, "not_authenticated", "Authentication failed"),
    (drf.PermissionDenied, "permission_denied", "Permission denied"),
    (drf.NotFound, "not_found", "Not found"),
    (drf.MethodNotAllowed, "method_not_allowed", "Method not allowed"),
    (drf.NotAcceptable, "not_acceptable", "Not acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type", "Unsupported media type"),
    (drf.ParseError, "parse_error", "Malformed request"),
    (PayloadTooLarge, "payload_too_large", "Payload too large"),
    (drf.Throttled, "throttled", "Too many requests"),
]


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": f"{PROBLEM_TYPE_BASE}{code}", "title": title, "status": status, "detail": detail,
            "code": code, **extra}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests validation messages by field; clients get one flat ``{"field.sub": [messages]}`` map."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # Django's own limits on what a client sends (body size, field count, a bad Host): the client's fault.
        exc = _suspicious_operation_as_api_error(exc)

    if isinstance(exc, ValidationFailed):
        set_rollback()
        return _problem_response(problem(400, exc.code, exc.title, exc.detail, errors=exc.errors))
    if isinstance(exc, ContractError):
        set_rollback()
        if isinstance(exc, RemoteServiceError):
            logger.warning("service failure answered as %s: %s", exc.status, exc.detail)
        extra = {key: value for key, value in exc.extra.items() if key in {"errors", "lines"}}
        return _problem_response(problem(exc.status, exc.code, exc.title, exc.detail, **extra))
    if isinstance(exc, drf.ValidationError):
        set_rollback()
        return _problem_response(
            problem(400, "validation_error", "Invalid input", "The request body is not valid.",
                    errors=flatten_errors(exc.detail))
        )
    if isinstance(exc, drf.APIException):
        set_rollback()
        code, title = next(
            ((code, title) for klass, code, title in _DRF_CODES if isinstance(exc, klass)),
            (str(exc.default_code), "Request failed"),
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return _problem_response(problem(exc.status_code, code, title, str(detail)), headers)

    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    set_rollback()
    return _problem_response(problem(500, "server_error", "Internal server error", "An unexpected error occurred."))


def _suspicious_operation_as_api_error(exc: SuspiciousOperation) -> drf.APIException:
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    return drf.ParseError("The request could not be understood.")


def problem_response(status: int, code: str, title: str, detail: str) -> JsonResponse:
    """A problem-details answer for plain Django views (outside DRF)."""
    return JsonResponse(problem(status, code, title, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(404, "not_found", "Not found", "No resource at this address.")


def server_error_view(request: HttpRequest) -> JsonResponse:
    return problem_response(500, "server_error", "Internal server error", "An unexpected error occurred.")


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django answers its own ``SuspiciousOperation``s (outside DRF: the admin, a bad Host) through this view."""
    if isinstance(exception, RequestDataTooBig):
        return problem_response(413, "payload_too_large", "Payload too large", "The request body is too large.")
    return problem_response(400, "bad_request", "Bad request", "The request could not be understood.")


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(403, "permission_denied", "Permission denied", "You may not do this.")
