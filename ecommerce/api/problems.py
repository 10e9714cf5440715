"""RFC 9457 problem details for every error the public API can give, including those raised outside DRF views
(unknown URLs, unhandled exceptions), in every mode, DEBUG included. Clients see a stable ``code`` and a ``detail``
that names what is wrong (for invalid input: every field, parameter or header in error); never a traceback, SQL or
a host name."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ecommerce.admin_error_pages import admin_error_page, is_admin_request
from ecommerce.api.parsers import PayloadTooLarge
from ecommerce.errors import ContractError, RemoteServiceError, ValidationFailed
from ecommerce.throttling import uncount_user_request

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


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else f"{message}."


def validation_detail(errors: dict[str, list[str]]) -> str:
    """One line naming every field in error with its messages:
    ``Invalid input: quantity: Ensure this value is greater than or equal to 1.``"""
    parts = []
    for field, messages in errors.items():
        text = " ".join(_sentence(message) for message in messages)
        parts.append(text if field == "non_field_errors" else f"{field}: {text}")
    return "Invalid input: " + " ".join(parts) if parts else "Invalid input."


def validation_problem(errors: dict[str, list[str]], *, code: str = "validation_error",
                       title: str = "Invalid input") -> dict[str, Any]:
    return problem(400, code, title, validation_detail(errors), errors=errors)


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    # Refused before its throttle judged it (a revoked token, a role that may not): not counted, as DRF's order says.
    uncount_user_request(context.get("request"))
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # Django's own limits on what a client sends (body size, field count, a bad Host): the client's fault.
        exc = _suspicious_operation_as_api_error(exc)

    if isinstance(exc, ValidationFailed):
        set_rollback()
        if not exc.errors:  # a rule that belongs to no field: its own sentence says what is wrong
            return _problem_response(problem(400, exc.code, exc.title, exc.detail, errors={}))
        return _problem_response(validation_problem(exc.errors, code=exc.code, title=exc.title))
    if isinstance(exc, ContractError):
        set_rollback()
        if isinstance(exc, RemoteServiceError):
            logger.warning("service failure answered as %s: %s", exc.status, exc.detail)
        extra = {key: value for key, value in exc.extra.items() if key in {"errors", "lines", "reason"}}
        return _problem_response(problem(exc.status, exc.code, exc.title, exc.detail, **extra))
    if isinstance(exc, drf.ValidationError):
        set_rollback()
        return _problem_response(validation_problem(flatten_errors(exc.detail)))
    if isinstance(exc, OperationalError):
        # The database refused or gave up (locked, unreachable, timed out): a transient state of the server, which
        # a retry may get past, never the client's fault and never an internal error to show.
        set_rollback()
        logger.warning("database unavailable answering %s: %s", context.get("view").__class__.__name__, exc)
        return _problem_response(
            problem(503, "service_unavailable", "Service unavailable",
                    "The database is busy or unavailable; please retry shortly."),
            {"Retry-After": "1"},
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
    return _problem_response(generic_problem(500))


def _suspicious_operation_as_api_error(exc: SuspiciousOperation) -> drf.APIException:
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    return drf.ParseError("The request could not be understood.")


def problem_response(status: int, code: str, title: str, detail: str) -> JsonResponse:
    """A problem-details answer for plain Django views (outside DRF)."""
    return JsonResponse(problem(status, code, title, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


# What the shop answers for an error Django raises before or after any API view runs.
_GENERIC_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Bad request", "The request could not be understood."),
    403: ("permission_denied", "Permission denied", "You may not do this."),
    404: ("not_found", "Not found", "No resource at this address."),
    405: ("method_not_allowed", "Method not allowed", "This address does not accept this method."),
    413: ("payload_too_large", "Payload too large", "The request body is too large."),
    500: ("server_error", "Internal server error", "An unexpected error occurred."),
}


def generic_problem(status: int) -> dict[str, Any]:
    """The problem details of a bare HTTP status, for errors no view described."""
    phrase = HTTPStatus(status).phrase
    code, title, detail = _GENERIC_PROBLEMS.get(
        status, (phrase.lower().replace(" ", "_").replace("-", "_"), phrase, f"{phrase}."))
    return problem(status, code, title, detail)


def generic_problem_response(status: int) -> JsonResponse:
    body = generic_problem(status)
    return problem_response(status, body["code"], body["title"], body["detail"])


def error_answer(request: HttpRequest, status: int) -> HttpResponse:
    """The one decision for an error no view described: an HTML page inside the admin, problem details elsewhere."""
    return admin_error_page(request, status) if is_admin_request(request) else generic_problem_response(status)


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_answer(request, 404)


def server_error_view(request: HttpRequest) -> HttpResponse:
    return error_answer(request, 500)


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django answers its own ``SuspiciousOperation``s (outside DRF: the admin, a bad Host) through this view."""
    return error_answer(request, 413 if isinstance(exception, RequestDataTooBig) else 400)


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_answer(request, 403)


class ProblemDetailsMiddleware:
    """Keeps every error answer of the public API problem details, DEBUG included.

    Django answers some errors itself, outside any API view: an address no route matches (404), a request it
    refuses before a view runs (400: a bad Host header), an exception in a middleware (500). With DEBUG off its
    handlers (``handler404`` and friends) answer problem details; with DEBUG on it answers its HTML debug pages
    instead, and the traceback they would show is in the log anyway. On the API's paths this middleware replaces any
    error answer that is not JSON by the problem details of its status, with the same headers. Answers of the API's
    views are problem details already and pass unchanged; the admin keeps its HTML pages."""

    API_PATH_PREFIX = "/api/"
    # Every other header (Allow, Retry-After, the security headers set further in) carries over to the replacement.
    _BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "content-disposition"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (response.status_code < 400 or not request.path.startswith(self.API_PATH_PREFIX)
                or response.get("Content-Type", "").split(";")[0] in {PROBLEM_CONTENT_TYPE, "application/json"}):
            return response
        replacement = generic_problem_response(response.status_code)
        for header, value in response.items():
            if header.lower() not in self._BODY_HEADERS:
                replacement[header] = value
        return replacement
