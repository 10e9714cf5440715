"""Log lines are JSON objects that name the process, the request, its trace and its caller; the one line per request
adds route, status and duration. Read here through the handler the settings configure, as an operator's collector
reads standard output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from rest_framework.test import APIClient

from ecommerce.contracts.users import UserDTO
from ecommerce.logging import LogContextFilter, ShopJsonFormatter, bind_request, logging_config, unbind_request


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ShopJsonFormatter())
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous_level)


def test_a_line_outside_any_request_is_json_naming_the_process(log_lines) -> None:
    logging.getLogger("shop.test").warning("disk %s full", "nearly")

    [line] = log_lines()
    assert line["message"] == "disk nearly full"
    assert line["level"] == "WARNING"
    assert line["logger"] == "shop.test"
    assert line["service"] == "shop-monolith"
    assert line["request_id"] == ""
    assert line["user_id"] is None
    assert "time" in line


def test_a_line_inside_a_span_carries_its_trace_and_span_ids(log_lines) -> None:
    tracer = TracerProvider().get_tracer("test")
    token = bind_request("req-42")
    try:
        with tracer.start_as_current_span("work") as span:
            logging.getLogger("shop.test").info("inside")
    finally:
        unbind_request(token)

    [line] = log_lines()
    assert line["request_id"] == "req-42"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")


@pytest.mark.django_db
def test_every_request_ends_with_one_line_naming_caller_route_status_and_duration(
        log_lines, client_for: Callable[..., APIClient], make_user: Callable[..., UserDTO]) -> None:
    customer = make_user()
    client = client_for(customer)

    response = client.get("/api/v1/cart", HTTP_X_REQUEST_ID="cart-read-1")

    assert response.status_code == 200
    [line] = [line for line in log_lines() if line["logger"] == "ecommerce.request"]
    assert line["request_id"] == "cart-read-1"
    assert line["user_id"] == customer.id
    assert line["user_role"] == "customer"
    assert line["route"] == "api/v1/cart"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["level"] == "INFO"


@pytest.mark.django_db
def test_a_refused_anonymous_request_is_logged_without_a_caller(log_lines, api_client: APIClient) -> None:
    response = api_client.get("/api/v1/orders")

    assert response.status_code == 401
    [line] = [line for line in log_lines() if line["logger"] == "ecommerce.request"]
    assert line["status"] == 401
    assert line["user_id"] is None
    assert line["route"] == "api/v1/orders"


def test_gunicorn_and_celery_take_the_same_configuration() -> None:
    from config import celery as celery_config
    from config import gunicorn as gunicorn_config

    configured = logging_config(level="INFO", log_format="json")

    assert gunicorn_config.logconfig_dict == configured
    assert configured["formatters"]["shop"] == {"()": "ecommerce.logging.ShopJsonFormatter"}
    # A receiver of setup_logging keeps Celery from installing its own format.
    from celery.signals import setup_logging

    assert any(receiver() is celery_config._log_like_django for _, receiver in setup_logging.receivers)
