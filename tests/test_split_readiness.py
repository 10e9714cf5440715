"""The gateway's readiness in a split deployment: it asks every role it calls and names the ones that do not
answer, quickly, even when a role accepts connections but never replies."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from django.test import RequestFactory

from ecommerce.rpc.readiness import gateway_readyz


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers, like a frozen process."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_ready_when_every_role_answers(settings, live_server) -> None:
    settings.ECOMMERCE_SERVICE_ROLE = "gateway"
    settings.ECOMMERCE_SERVICE_URLS = {role: live_server.url for role in ("users", "products", "carts", "orders")}

    response = gateway_readyz(RequestFactory().get("/readyz"))

    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["checks"] == {"database": "ok", "cache": "ok", "carts": "ok", "orders": "ok", "products": "ok",
                              "users": "ok"}
    assert body["background"]["broker"] in {"ok", "not_configured"}


@pytest.mark.django_db(transaction=True)
def test_names_the_roles_that_are_down_or_frozen_without_hanging(settings, live_server, silent_port: int) -> None:
    settings.ECOMMERCE_SERVICE_ROLE = "gateway"
    settings.ECOMMERCE_SERVICE_URLS = {"users": live_server.url, "products": "http://127.0.0.1:9",
                                       "carts": f"http://127.0.0.1:{silent_port}"}

    started = time.monotonic()
    response = gateway_readyz(RequestFactory().get("/readyz"))
    elapsed = time.monotonic() - started

    body = json.loads(response.content)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert body["checks"]["users"] == "ok"
    assert body["checks"]["products"] == "unavailable"
    assert body["checks"]["carts"] == "unavailable"
    assert body["detail"] == "Unavailable: carts, products."
    assert "127.0.0.1" not in response.content.decode()
    assert elapsed < 2.5
