"""OpenTelemetry tracing of every process: one request is one trace, from the gateway through every role it calls
to the workers that run its tasks.

``ECOMMERCE_TRACING_EXPORTER`` picks where spans go: ``none`` (the default: nothing is instrumented), ``console``
(one JSON object per span and line on standard output, beside the logs) or ``otlp`` (OTLP over HTTP to
``OTEL_EXPORTER_OTLP_ENDPOINT``, default ``http://localhost:4318``; the other standard ``OTEL_*`` variables, such as
``OTEL_TRACES_SAMPLER``, apply). Instrumented: Django requests (server spans named by route), every SQL statement
(a span per statement through Django's execute wrappers, so every database driver is covered), Redis, httpx, Celery
(publish and run, the trace travelling in the task's headers) and the internal RPC (a client span per contract
call; httpx carries the trace to the role in the ``traceparent`` header, where Django continues it).

Each process reports as ``shop-<role>`` (``shop-monolith`` in the monolith), its role being what the deployment
module says, never read from the environment here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from ecommerce import deployment

EXPORTERS = ("none", "console", "otlp")
TRACER_NAME = "ecommerce"

_configured = False
_configure_lock = threading.Lock()


def service_name() -> str:
    return f"shop-{deployment.process_role()}"


def _exporter(kind: str) -> Any:
    if kind == "console":
        import sys

        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # One compact line per span, so a log collector (or a test) can read spans line by line.
        return ConsoleSpanExporter(out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing() -> bool:
    """Installs the tracer provider and the instrumentations once per process; False when tracing is off."""
    global _configured
    kind = settings.ECOMMERCE_TRACING_EXPORTER
    if kind == "none":
        return False
    with _configure_lock:
        if _configured:
            return True
        from opentelemetry import trace
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": service_name()}))
        provider.add_span_processor(BatchSpanProcessor(_exporter(kind)))
        trace.set_tracer_provider(provider)
        DjangoInstrumentor().instrument()
        HTTPXClientInstrumentor().instrument()
        RedisInstrumentor().instrument()
        CeleryInstrumentor().instrument()
        _instrument_sql()
        _configured = True
        return True


def _instrument_sql() -> None:
    """A span per SQL statement. The psycopg instrumentation is not published for this OpenTelemetry release, and
    Django's execute wrappers see every statement of every connection whatever the driver."""
    from django.db.backends.signals import connection_created

    def install(*, connection: Any, **_: Any) -> None:
        if _sql_span not in connection.execute_wrappers:
            connection.execute_wrappers.append(_sql_span)

    connection_created.connect(install, weak=False, dispatch_uid="ecommerce.tracing.sql")


def _sql_span(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    connection = context["connection"]
    verb = (sql.lstrip().split(None, 1) or ["SQL"])[0].upper()
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"{verb} {connection.settings_dict.get('NAME', '')}", kind=SpanKind.CLIENT,
                                      attributes={"db.system.name": connection.vendor, "db.query.text": sql,
                                                  "db.namespace": str(connection.settings_dict.get("NAME", ""))}):
        return execute(sql, params, many, context)


@contextmanager
def rpc_client_span(service: str, method: str) -> Iterator[None]:
    """The caller's span of one internal contract call (a no-op span when tracing is off)."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"rpc {service}.{method}", kind=SpanKind.CLIENT,
                                      attributes={"rpc.system.name": "shop", "rpc.service": service,
                                                  "rpc.method": method}):
        yield


def tag_request(request_id: str) -> None:
    """Puts the request id on the current server span, so a trace is found from a log line and back."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("shop.request_id", request_id)
