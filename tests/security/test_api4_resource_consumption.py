"""API4:2023 Unrestricted resource consumption, on every operation the table and the document list: a list answers
at most ``MAX_PAGE_SIZE`` items however many are asked for; a body over the upload limit is 413 and one nested
deeper than ``MAX_JSON_DEPTH`` is 400, before any view runs; every operation is throttled (429 with
``Retry-After``), except a payment provider's webhooks, which must never be turned away (they are verified by
signature before anything is read)."""

from __future__ import annotations

import json

import pytest

from apps.gateway.api import catalog_reads
from apps.gateway.tests.problems import assert_problem
from ecommerce.api import pagination
from ecommerce.api.parsers import MAX_JSON_DEPTH
from ecommerce.paging import MAX_PAGE_SIZE
from tests.security.endpoints import ENDPOINTS, Audience, caller, send
from tests.security.inventory import page_size_operations, request_properties, schema_operations

pytestmark = pytest.mark.django_db

JSON_BODIES = sorted(key for key, operation in schema_operations().items()
                     if request_properties(operation) is not None and ENDPOINTS[key].audience != Audience.PROVIDER)
THROTTLED = sorted(key for key, endpoint in ENDPOINTS.items() if endpoint.audience != Audience.PROVIDER)


def _raw(world, operation: str, body: bytes):
    method = operation.split(" ", 1)[0].lower()
    call = ENDPOINTS[operation].call(world)
    return getattr(caller(world, operation), method)(call.path, data=body, content_type="application/json",
                                                     headers=call.headers)


def test_the_largest_page_is_a_hundred_items() -> None:
    assert MAX_PAGE_SIZE == 100


@pytest.mark.parametrize("operation", page_size_operations())
def test_a_page_never_holds_more_than_the_maximum(world, operation, monkeypatch) -> None:
    """The world holds two or more items in every list, so a maximum of one shows the cap applies to each."""
    monkeypatch.setattr(pagination, "MAX_PAGE_SIZE", 1)
    call = ENDPOINTS[operation].call(world)

    catalog_reads.product_list_query.cache_clear()  # validated product queries are kept per process
    try:
        response = caller(world, operation).get(call.path, {"page_size": 100_000})
    finally:
        catalog_reads.product_list_query.cache_clear()

    assert response.status_code == 200, response.content
    assert response.json()["count"] >= 2
    assert len(response.json()["results"]) == 1
    assert response.json()["next"] is not None


@pytest.mark.parametrize("operation", JSON_BODIES)
def test_a_body_over_the_upload_limit_is_413(world, operation, settings) -> None:
    body = json.dumps({"padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}).encode()

    assert_problem(_raw(world, operation, body), 413, "payload_too_large")


@pytest.mark.parametrize("operation", JSON_BODIES)
def test_a_body_nested_too_deep_is_400(world, operation) -> None:
    body = b'{"a": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}"

    assert_problem(_raw(world, operation, body), 400, "parse_error")


@pytest.mark.parametrize("operation", THROTTLED)
def test_every_operation_is_throttled(world, operation, settings) -> None:
    settings.ECOMMERCE_THROTTLE_ANON = settings.ECOMMERCE_THROTTLE_USER = "2/min"
    call = ENDPOINTS[operation].call(world)
    client = caller(world, operation)

    answers = [send(client, operation, call) for _ in range(3)]

    body = assert_problem(answers[-1], 429, "throttled")
    assert int(answers[-1]["Retry-After"]) >= 1, body
