"""Prometheus metrics are for the operator's scraper, never for the public.

Rule guarded here: ``/metrics`` answers only a request bearing ``ECOMMERCE_METRICS_TOKEN`` (``Authorization: Bearer
...``), in every role; a missing or wrong token is a 401 that says nothing about the metrics, and without a configured
token the path does not exist at all (404). The token is compared in constant time."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django_prometheus.exports import ExportToDjangoView

from ecommerce.api.problems import not_found_view, problem_response


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
    return ExportToDjangoView(request)


# Every role's URLconf includes this; the name is django-prometheus's own, so its reverse() keeps working.
urlpatterns = [path("metrics", metrics, name="prometheus-django-metrics")]
