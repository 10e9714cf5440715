"""Health, readiness, metrics and the OpenAPI schema."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView

from apps.gateway.tests.problems import assert_problem
from ecommerce import health, metrics
from ecommerce.events.models import DeadLetter, OutboxEvent
from ecommerce.events.outbox import record_event
from scripts.deployment import free_port
from tests.urlconf import routes


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


METRICS_TOKEN = "scraper-token-for-the-operations-tests-0f3a9c"


@pytest.mark.django_db
def test_a_broker_outage_alone_leaves_the_process_ready_and_is_reported(settings) -> None:
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{free_port()}//"  # nothing listens there

    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checks"] == {"database": "ok", "cache": "ok"}
    assert body["background"]["broker"] == "unavailable"
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readiness_reports_the_outbox_backlog_and_its_age(settings) -> None:
    settings.CELERY_BROKER_URL = ""
    with transaction.atomic():
        oldest = record_event("order.created", {"order_id": "a"})
        record_event("order.paid", {"order_id": "a"})
    OutboxEvent.objects.filter(pk=oldest.pk).update(occurred_at=timezone.now() - timedelta(seconds=90))

    body = Client().get("/readyz").json()

    assert body["background"]["broker"] == "not_configured"
    assert body["background"]["outbox"]["pending"] == 2
    assert 89 <= body["background"]["outbox"]["oldest_age_seconds"] < 150


@pytest.mark.django_db
def test_metrics_are_prometheus_text_for_the_scraper(settings) -> None:
    settings.ECOMMERCE_METRICS_TOKEN = METRICS_TOKEN

    response = Client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert b"django_http_requests" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", "Bearer ",
                                           f"Bearer {METRICS_TOKEN}x"])
def test_metrics_refuse_anyone_without_the_token(settings, authorization) -> None:
    settings.ECOMMERCE_METRICS_TOKEN = METRICS_TOKEN
    headers = {"Authorization": authorization} if authorization else {}

    response = Client().get("/metrics", headers=headers)

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"django_http" not in response.content


@pytest.mark.django_db
def test_without_a_configured_token_metrics_are_not_served_at_all(settings) -> None:
    settings.ECOMMERCE_METRICS_TOKEN = ""

    assert_problem(Client().get("/metrics", headers={"Authorization": "Bearer "}), 404, "not_found")


@pytest.mark.parametrize("urlconf", ["config.urls", "config.urls_gateway", "config.urls_service"])
def test_every_role_serves_metrics_only_through_the_token_check(urlconf: str, settings) -> None:
    # A domain role's URLconf asks the deployment for its role, which only a split deployment has.
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "orders"

    served = {route.pattern: route.callback for route in routes(urlconf)}

    assert served["metrics"] is metrics.metrics
    assert ExportToDjangoView not in served.values()


@pytest.mark.django_db
def test_metrics_show_how_far_behind_background_work_is(settings) -> None:
    settings.ECOMMERCE_METRICS_TOKEN = METRICS_TOKEN
    with transaction.atomic():
        record_event("order.created", {"order_id": "a"})
        record_event("order.created", {"order_id": "b"})
    DeadLetter.objects.create(consumer="users.order_emails", error="boom", attempts=4)

    text = Client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).content.decode()

    assert "shop_outbox_pending_events 2.0" in text
    assert "shop_outbox_oldest_pending_seconds" in text
    assert 'shop_dead_letters{consumer="users.order_emails"} 1.0' in text


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


@pytest.mark.django_db
def test_the_docs_page_loads_only_assets_this_process_serves() -> None:
    client = Client()
    page = client.get("/api/docs/").content.decode()

    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)

    assert len(assets) >= 4, page  # stylesheet, favicon, the bundle and the standalone preset
    assert [url for url in assets if not url.startswith("/static/")] == []
    assert re.findall(r"https?://[^\s\"']+", page) == []
    assert '"validatorUrl": null' in page
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content if response.streaming else [response.content])
