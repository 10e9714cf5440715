"""Health, readiness, metrics and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from ecommerce import health


@pytest.mark.django_db
def test_liveness_is_always_200() -> None:
    assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readiness_is_200_when_everything_answers() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readiness_is_503_naming_what_failed(monkeypatch) -> None:
    def broken_cache() -> None:
        raise ConnectionError("redis://internal-host:6379 refused")

    monkeypatch.setitem(health.CHECKS, "cache", broken_cache)

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == "unavailable"
    assert "cache" in body["detail"]
    assert "internal-host" not in response.content.decode()


@pytest.mark.django_db
def test_metrics_are_prometheus_text() -> None:
    response = Client().get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests" in response.content


@pytest.mark.django_db
def test_the_openapi_schema_validates_and_documents_every_public_path(tmp_path) -> None:
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    import yaml

    schema = yaml.safe_load(target.read_text())
    paths = set(schema["paths"])
    expected = {
        "/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout",
        "/api/v1/auth/password/change", "/api/v1/auth/password/reset", "/api/v1/auth/password/reset/confirm",
        "/api/v1/users/me", "/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/users/me/addresses",
        "/api/v1/users/me/addresses/{address_id}", "/api/v1/categories", "/api/v1/categories/{category_id}",
        "/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/products/{product_id}/stock",
        "/api/v1/cart", "/api/v1/cart/items", "/api/v1/cart/items/{product_id}",
        "/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/cancel",
        "/api/v1/orders/{order_id}/status",
    }
    assert expected <= paths, expected - paths
    assert not any(path.startswith("/internal") for path in paths)
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(login)
    assert "application/problem+json" in login["400"]["content"]


@pytest.mark.django_db
def test_docs_page_is_served() -> None:
    assert Client().get("/api/docs/").status_code == 200
