"""A task continues the trace of whoever sent it: the sender's context travels in the task's headers and the
worker's span of the run hangs under the sender's publish span. A real worker exports its spans as JSON lines to its
output (ECOMMERCE_TRACING_EXPORTER=console); the sender's spans are kept in memory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.workers import CeleryWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sender_spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    yield provider, exporter
    instrumentor.uninstrument()


def _worker_spans(worker: CeleryWorker) -> list[dict[str, Any]]:
    spans = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"resource"' in line:
            spans.append(json.loads(line))
    return spans


def test_a_task_run_is_part_of_the_trace_that_sent_it(rabbitmq: str, settings: Any, tmp_path: Path,
                                                      start_worker: Callable[..., CeleryWorker],
                                                      sender_spans: tuple[TracerProvider, Any]) -> None:
    provider, exporter = sender_spans
    queue = f"{settings.ECOMMERCE_BROKER_NAMESPACE}celery"
    worker = start_worker(include=("tests.support.slow_tasks",),
                          env={"ECOMMERCE_TRACING_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"})
    worker.wait_consuming([queue])
    sender = Celery(broker=rabbitmq)

    with provider.get_tracer("test").start_as_current_span("checkout") as checkout:
        sender.send_task("tests.slow_task", queue=queue, kwargs={
            "seconds": 0, "started_path": str(tmp_path / "started"), "done_path": str(tmp_path / "done")})
    sender.close()

    trace_id = format(checkout.get_span_context().trace_id, "#034x")
    run: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not run and time.monotonic() < deadline:
        run = [span for span in _worker_spans(worker)
               if span["context"]["trace_id"] == trace_id and span["kind"] == "SpanKind.CONSUMER"]
        time.sleep(0.2)
    assert run, worker.log_tail()
    publish = [span for span in exporter.get_finished_spans() if span.kind.name == "PRODUCER"]
    assert len(publish) == 1
    assert run[0]["parent_id"] == format(publish[0].get_span_context().span_id, "#018x")
    assert run[0]["resource"]["attributes"]["service.name"] == "shop-monolith"
