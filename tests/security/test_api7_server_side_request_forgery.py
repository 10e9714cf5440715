"""API7:2023 Server side request forgery. No operation fetches a URL a client gave it:

- the OpenAPI document is read for every input that could name a URL (a ``uri`` format, or a name that says url,
  uri, link, callback or webhook); today that is a product's ``image_url`` only, which is stored and handed back,
  never fetched. A new one fails ``test_the_only_url_a_client_gives_is_a_products_image`` until it is proved here;
- every operation of the table is called by its audience, with every such input (and the stored product's image)
  pointing at a canary address, while every name look-up and connection the process makes is recorded: none goes to
  the canary (and none could: it is refused on the spot);
- the one request the shop itself sends on a shopper's action, the payment processor's webhook, goes to the address
  in the settings whatever the shopper's request carries.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests import sandbox_webhooks as webhook_fixtures
from tests.security.endpoints import ENDPOINTS, V1, Call, caller, send
from tests.security.inventory import openapi_document, schema_operations
from tests.security.world import World

pytestmark = pytest.mark.django_db

sandbox_webhooks = webhook_fixtures.sandbox_webhooks

CANARY_HOST = "ssrf-canary.example"
CANARY_IP = "169.254.169.254"  # where a cloud's instance metadata lives: an SSRF's favourite target
STORED_CANARY = f"http://{CANARY_HOST}/image.png"
SENT_CANARY = f"http://{CANARY_IP}/latest/meta-data/"
_URL_NAME = re.compile(r"url|uri|link|callback|webhook|redirect", re.IGNORECASE)
IMAGE_URL_OPERATIONS = {"POST /api/v1/products", "PUT /api/v1/products/{product_id}",
                        "PATCH /api/v1/products/{product_id}"}


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return openapi_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _url_inputs(schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted names of the properties of a request body schema that could carry a URL, at any depth."""
    schema = _resolved(schema)
    for alternative in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _url_inputs(alternative, prefix)
    for name, child in schema.get("properties", {}).items():
        child = _resolved(child)
        if child.get("format") in {"uri", "url", "iri"} or _URL_NAME.search(name):
            yield prefix + name
        yield from _url_inputs(child, f"{prefix}{name}.")


def url_inputs() -> set[tuple[str, str]]:
    found = set()
    for operation_name, operation in schema_operations().items():
        for name, parameter in [(p["name"], p.get("schema", {})) for p in operation.get("parameters", [])]:
            if parameter.get("format") in {"uri", "url"} or _URL_NAME.search(name):
                found.add((operation_name, name))
        for content in operation.get("requestBody", {}).get("content", {}).values():
            found.update((operation_name, name) for name in _url_inputs(content["schema"]))
    return found


def test_the_only_url_a_client_gives_is_a_products_image() -> None:
    assert url_inputs() == {(operation, "image_url") for operation in IMAGE_URL_OPERATIONS}


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name looked up and every address connected to while the test runs; the canary is refused."""
    seen: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def refuse_canary(target: str) -> None:
        seen.append(target)
        if CANARY_HOST in target or CANARY_IP in target:
            raise OSError(f"refused a connection to the SSRF canary {target}")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        refuse_canary(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        refuse_canary(str(address))
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def test_the_recording_sees_a_fetch_of_either_canary(outbound: list[str]) -> None:
    for url in (STORED_CANARY, SENT_CANARY):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=1)

    assert [target for target in outbound if CANARY_HOST in target or CANARY_IP in target]


def _with_canaries(operation: str, call: Call) -> Call:
    if operation not in IMAGE_URL_OPERATIONS:
        return call
    return Call(call.path, {**(call.body or {}), "image_url": SENT_CANARY}, call.headers)


@pytest.mark.parametrize("operation", sorted(ENDPOINTS))
def test_no_operation_reaches_a_url_a_client_gave_it(world: World, operation: str, outbound: list[str]) -> None:
    stored = world.client("catalog_staff").patch(f"{V1}/products/{world.product_id}", {"image_url": STORED_CANARY},
                                                 format="json")
    assert stored.status_code == 200, stored.content
    call = _with_canaries(operation, ENDPOINTS[operation].call(world))

    response = send(caller(world, operation), operation, call)

    assert response.status_code < 500, response.content
    assert not [target for target in outbound if CANARY_HOST in target or CANARY_IP in target]
    if operation in IMAGE_URL_OPERATIONS:  # kept as given: stored and handed back, never fetched
        assert (response.status_code, response.json()["image_url"]) in {(200, SENT_CANARY), (201, SENT_CANARY)}


def test_the_processors_webhook_goes_to_the_configured_address_whatever_the_shopper_sends(
        world: World, sandbox_webhooks: webhook_fixtures.SandboxWebhooks, outbound: list[str]) -> None:
    forged = {"card_number": "4242424242424242", "webhook_url": SENT_CANARY, "callback_url": SENT_CANARY,
              "return_url": SENT_CANARY}
    confirmed = world.client("alice").post(f"{V1}/payments/{world.payment_id}/confirm", forged, format="json",
                                           headers={"X-Forwarded-Host": CANARY_HOST, "Referer": SENT_CANARY})
    assert confirmed.status_code < 500, confirmed.content

    sandbox_webhooks.deliver()

    assert sandbox_webhooks.transport.requests, "the confirmation announced no event"
    assert {str(request.url) for request in sandbox_webhooks.transport.requests} == {
        settings.ECOMMERCE_SANDBOX_WEBHOOK_URL}
    assert not [target for target in outbound if CANARY_HOST in target or CANARY_IP in target]
