"""Structured logs: every line is one JSON object (python-json-logger) carrying what an operator correlates by.

Every line, from gunicorn, Django or a Celery worker, names the process (``service``: ``shop-<role>``), and, when
it is written while a request or a task is being handled, that request's id (``request_id``, also the
``X-Request-ID`` header, passed on to every role a request reaches), the OpenTelemetry trace and span ids
(``trace_id``, ``span_id``: the same trace across gateway, roles and workers), the caller (``user_id``,
``user_role``) and the route. The one line written per request (logger ``ecommerce.request``) adds ``method``,
``status`` and ``duration_ms``. ``DJANGO_LOG_FORMAT=plain`` gives one readable line per record instead, for a
developer's terminal.

The request's context lives in a context variable bound by ``ecommerce.middleware.RequestIDMiddleware``; the
authentication fills in the caller once it is known."""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.json import JsonFormatter


@dataclass
class RequestContext:
    request_id: str
    route: str = ""
    user_id: int | None = None
    user_role: str = ""


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("request_context",
                                                                                        default=None)


def current_context() -> RequestContext | None:
    return _request_context.get()


def current_request_id() -> str:
    context = _request_context.get()
    return context.request_id if context else ""


def bind_request(request_id: str) -> contextvars.Token[RequestContext | None]:
    return _request_context.set(RequestContext(request_id=request_id))


def unbind_request(token: contextvars.Token[RequestContext | None]) -> None:
    _request_context.reset(token)


def bind_user(*, user_id: int, role: str) -> None:
    """Called by the authentication once a caller is known: later lines of the request name them."""
    context = _request_context.get()
    if context is not None:
        context.user_id = user_id
        context.user_role = role


def bind_route(route: str) -> None:
    context = _request_context.get()
    if context is not None:
        context.route = route


def _service_name() -> str:
    # gunicorn's master logs before Django is set up; its lines then name no role.
    try:
        from ecommerce.tracing import service_name

        return service_name()
    except Exception:  # noqa: BLE001 - settings not configured yet
        return "shop"


def _trace_ids() -> tuple[str, str]:
    from opentelemetry import trace

    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return "", ""
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _task() -> tuple[str, str]:
    from celery import current_task

    request = getattr(current_task, "request", None) if current_task else None
    if request is None or not getattr(request, "id", None):
        return "", ""
    return str(request.id), str(current_task.name)


class LogContextFilter(logging.Filter):
    """Adds the correlation fields to every record (empty strings where they do not apply)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _request_context.get()
        record.service = _service_name()
        record.request_id = getattr(record, "request_id", "") or (context.request_id if context else "")
        record.route = getattr(record, "route", "") or (context.route if context else "")
        record.user_id = context.user_id if context else None
        record.user_role = context.user_role if context else ""
        record.trace_id, record.span_id = _trace_ids()
        record.task_id, record.task = _task()
        return True


# Kept for configurations that name the filter this module had first.
RequestIDFilter = LogContextFilter

CORRELATION_FIELDS = ("service", "request_id", "trace_id", "span_id", "user_id", "user_role", "route", "task_id",
                      "task")


class ShopJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, the correlation fields, and whatever ``extra`` a
    call passed (``method``, ``status``, ``duration_ms`` on request lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", *CORRELATION_FIELDS])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s] %(message)s"


def logging_config(*, level: str, log_format: str) -> dict[str, Any]:
    """The one logging configuration of Django, gunicorn and Celery processes alike."""
    formatter = ({"()": "ecommerce.logging.ShopJsonFormatter"} if log_format == "json"
                 else {"format": PLAIN_FORMAT})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "ecommerce.logging.LogContextFilter"}},
        "formatters": {"shop": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "shop", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The request line below replaces Django's own line for every 4xx/5xx answer.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            # gunicorn's loggers carry their own handlers otherwise; through the root they get ours.
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Its access line is replaced by the request line (ecommerce.request), which knows route, caller and trace.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
