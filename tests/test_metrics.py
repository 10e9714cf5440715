"""The metric families dashboards and alerts are built on, read from ``/metrics`` with the scraper's token: requests
by route, internal calls by target (latency, failures, breaker), stock-outs, Celery queue depth; and the samples of
several gunicorn workers added up in one scrape."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from kombu import Connection, Queue
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from ecommerce.errors import ServiceUnavailable
from ecommerce.roles import Role
from ecommerce.rpc.transport import HttpTransport
from scripts.deployment import free_port

METRICS_TOKEN = "scraper-token-for-tests-0c5e2f"
ROOT = Path(__file__).resolve().parent.parent


def _scrape() -> str:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def scraper_token(settings: Any) -> None:
    settings.ECOMMERCE_METRICS_TOKEN = METRICS_TOKEN


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_route(scraper_token: None, api_client: APIClient) -> None:
    api_client.get("/api/v1/products")

    text = _scrape()

    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="product-list"}' in text
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert "django_http_responses_total_by_status_total" in text


def _buyer_with_cart(client_for: Callable[..., APIClient], product_id: int, quantity: int) -> tuple[APIClient, int]:
    shopper = client_for(Role.CUSTOMER)
    address = shopper.post("/api/v1/users/me/addresses", {
        "full_name": "Ann Example", "street": "1 Main St", "city": "Springfield", "zip_code": "62701",
        "country": "US", "is_default": True}, format="json")
    assert address.status_code == 201, address.content
    added = shopper.post("/api/v1/cart/items", {"product_id": product_id, "quantity": quantity}, format="json")
    assert added.status_code == 201, added.content
    return shopper, address.json()["id"]


def _checkout(shopper: APIClient, address_id: int) -> int:
    return shopper.post("/api/v1/orders", {"address_id": address_id}, format="json",
                        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex).status_code


@pytest.mark.django_db
def test_a_short_checkout_is_a_refusal_and_the_last_unit_gone_a_stock_out(
        scraper_token: None, client_for: Callable[..., APIClient], django_capture_on_commit_callbacks) -> None:
    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    outs, refusals = sample("shop_stock_outs_total"), sample("shop_stock_refusals_total")
    catalog = client_for(Role.CATALOG_STAFF)
    sku = f"MET-{uuid.uuid4().hex[:8].upper()}"
    product_id = catalog.post("/api/v1/products", {"sku": sku, "name": f"Kettle {sku}", "price": "9.00",
                                                   "stock": 3}, format="json").json()["id"]
    first, first_address = _buyer_with_cart(client_for, product_id, 2)
    second, second_address = _buyer_with_cart(client_for, product_id, 2)

    with django_capture_on_commit_callbacks(execute=True):
        assert _checkout(first, first_address) == 201
        assert _checkout(second, second_address) == 409
        assert catalog.post(f"/api/v1/products/{product_id}/stock", {"delta": -1}, format="json").status_code == 200

    text = _scrape()
    assert sample("shop_stock_refusals_total") == refusals + 1
    assert sample("shop_stock_outs_total") == outs + 1
    assert "shop_products_out_of_stock 1.0" in text


def test_calls_to_a_dead_role_are_counted_as_failures_and_open_its_breaker(settings: Any) -> None:
    settings.ECOMMERCE_RPC_TIMEOUT_SECONDS = 1.0
    target = f"deadrole{uuid.uuid4().hex[:6]}"
    transport = HttpTransport(target, f"http://127.0.0.1:{free_port()}")
    try:
        for _ in range(6):
            with pytest.raises(ServiceUnavailable):
                transport.call(service=target, method="thing_get", body=b"{}", idempotent=True)
    finally:
        transport.close()

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"target": target, **labels})

    # Three refused attempts fail the first call; the second trips the breaker (five failures in a row), and it
    # and every later call are refused at once.
    assert value("shop_rpc_client_failures_total", kind="unavailable") == 1
    assert value("shop_rpc_client_failures_total", kind="circuit_open") == 5
    assert value("shop_rpc_client_seconds_count", method="thing_get", outcome="unavailable") == 1
    assert value("shop_rpc_client_seconds_count", method="thing_get", outcome="circuit_open") == 5
    assert value("shop_rpc_circuit_open") == 1
    assert value("shop_rpc_circuit_opened_total") == 1

    transport.breaker.reset()
    assert value("shop_rpc_circuit_open") == 0


@pytest.mark.django_db
def test_celery_queue_depth_is_read_from_the_broker(scraper_token: None, rabbitmq: str, settings: Any) -> None:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE = f"{settings.ECOMMERCE_BROKER_NAMESPACE}celery"
    with Connection(rabbitmq) as broker:
        producer = broker.Producer()
        declared = Queue(queue, durable=True)
        producer.publish({"waiting": 1}, routing_key=queue, declare=[declared])
        producer.publish({"waiting": 2}, routing_key=queue, declare=[declared])
    from ecommerce.events import metrics as event_metrics

    event_metrics.QUEUE_DEPTH_TTL_SECONDS, ttl = 0.0, event_metrics.QUEUE_DEPTH_TTL_SECONDS
    try:
        text = _scrape()
    finally:
        event_metrics.QUEUE_DEPTH_TTL_SECONDS = ttl

    assert f'shop_celery_queue_messages{{queue="{queue}"}} 2.0' in text
    assert f'shop_celery_queue_consumers{{queue="{queue}"}} 0.0' in text


_COUNT_ONE_REFUSAL = "from apps.products.metrics import STOCK_REFUSALS; STOCK_REFUSALS.inc()"
_SCRAPE_LIKE_A_WORKER = """
import django
django.setup()
from prometheus_client import generate_latest
from ecommerce.metrics import _registry
print(generate_latest(_registry()).decode())
"""


def test_one_scrape_adds_up_the_samples_of_every_worker_process(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    for _ in range(2):  # two workers, each counting one refusal in its own process
        subprocess.run([sys.executable, "-c", _COUNT_ONE_REFUSAL], env=env, cwd=ROOT, check=True)

    scraped = subprocess.run([sys.executable, "-c", _SCRAPE_LIKE_A_WORKER], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout

    assert "shop_stock_refusals_total 2.0" in scraped
