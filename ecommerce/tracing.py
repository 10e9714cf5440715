"""OpenTelemetry tracing, switched on by ``ECOMMERCE_TRACING=1``: requests get spans named by their route, written
by the SDK's console exporter. Each process reports as ``shop-<role>`` (``shop-monolith`` in the monolith), its role
being what the deployment module says, never read from the environment here."""

from __future__ import annotations

from django.conf import settings

from ecommerce import deployment


def service_name() -> str:
    return f"shop-{deployment.process_role()}"


def configure_tracing() -> bool:
    if not settings.ECOMMERCE_TRACING:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service_name()}))
    provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    return True
