"""Prometheus metrics are for the operator's scraper, never for the public.

Rule guarded here: ``/metrics`` answers only a request bearing ``ECOMMERCE_METRICS_TOKEN`` (``Authorization: Bearer
...``), in every role; a missing or wrong token is a 401 that says nothing about the metrics, and without a configured
token the path does not exist at all (404). The token is compared in constant time.

Several gunicorn workers serve one role: with ``PROMETHEUS_MULTIPROC_DIR`` set (``config/gunicorn.py`` sets it for
every server it starts) each worker writes its counters and histograms to that directory and a scrape, whichever
worker answers it, adds up all of them (prometheus-client's multiprocess mode). Figures read at scrape time from the
database or the broker (backlogs, queue depths, stock) come from the collectors registered here, once per scrape."""

from __future__ import annotations

import hmac
import os
import threading

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from prometheus_client import multiprocess
from prometheus_client.registry import Collector

from ecommerce.api.problems import not_found_view, problem_response

_scrape_collectors: dict[str, Collector] = {}
_collectors_lock = threading.Lock()


def register_scrape_collector(collector: Collector) -> None:
    """A collector that reads its figures when scraped; one per class and process (``ready`` may run again)."""
    name = type(collector).__qualname__
    with _collectors_lock:
        if name in _scrape_collectors:
            return
        _scrape_collectors[name] = collector
        prometheus_client.REGISTRY.register(collector)


def _registry() -> prometheus_client.CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return prometheus_client.REGISTRY
    registry = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _scrape_collectors.values():
        registry.register(collector)
    return registry


def _bearer(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.ECOMMERCE_METRICS_TOKEN
    if not token:
        return not_found_view(request)
    if not hmac.compare_digest(_bearer(request).encode(), token.encode()):
        response = problem_response(401, "not_authenticated", "Authentication required",
                                    "Metrics need the scraper's bearer token.")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(prometheus_client.generate_latest(_registry()),
                        content_type=prometheus_client.CONTENT_TYPE_LATEST)


# Every role's URLconf includes this; the name is django-prometheus's own, so its reverse() keeps working.
urlpatterns = [path("metrics", metrics, name="prometheus-django-metrics")]
