"""Events across roles of a split deployment: the orders role's relay publishes an order's event from its own
outbox, and the users role's worker (its own database, its own consumer queue) mails the customer.

The deployment under test serves without a broker, so an event another role consumes waits in the orders role's
outbox (its servers deliver only their own consumers' events); here the orders role's relay runs with the broker,
exactly as its worker runs it, and a real worker of the users role takes it from there."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ecommerce.events import subscriptions, topology
from scripts.deployment import ROOT
from tests.e2e.conftest import USER_PASSWORD, Shop, unique_email
from tests.support.smtp import SmtpServer
from tests.support.workers import CeleryWorker

pytestmark = pytest.mark.e2e

RELAY = ("import django; django.setup(); from ecommerce.events.relay import relay_outbox; "
         "print('published', relay_outbox())")


def _place_order(shop: Shop) -> tuple[str, dict[str, Any]]:
    email = unique_email("split-events")
    with shop.client() as anonymous:
        assert anonymous.post("/auth/register", json={"email": email, "password": USER_PASSWORD,
                                                      "name": "Split Shopper"}).status_code == 201
    sku = f"SPL-{uuid.uuid4().hex[:8].upper()}"
    with shop.client(shop.staff_token("catalog@example.com")) as catalog:
        product = catalog.post("/products", json={"sku": sku, "name": f"Kettle {sku}", "price": "30.00",
                                                  "stock": 9})
    assert product.status_code == 201, product.text
    with shop.client(shop.login(email, USER_PASSWORD)) as customer:
        address = customer.post("/users/me/addresses", json={
            "full_name": "Split Shopper", "street": "2 Side St", "city": "Springfield", "zip_code": "62701",
            "country": "US", "is_default": True})
        assert customer.post("/cart/items", json={"product_id": product.json()["id"], "quantity": 2}).status_code == 201
        order = customer.post("/orders", json={"address_id": address.json()["id"]},
                              headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.text
    return email, order.json()


def test_an_order_event_travels_from_the_orders_outbox_to_the_users_worker(
        split_shop: Shop, rabbitmq: str, settings: Any, smtp_server: SmtpServer, tmp_path: Path) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    namespace = settings.ECOMMERCE_BROKER_NAMESPACE
    broker_env = {"CELERY_BROKER_URL": rabbitmq, "ECOMMERCE_BROKER_NAMESPACE": namespace}
    worker = CeleryWorker(broker_url=rabbitmq, namespace=namespace, log_path=tmp_path / "worker-users.log",
                          env={**deployment.role_env("users"), **broker_env, "EMAIL_URL": smtp_server.url,
                               "ECOMMERCE_INPROCESS_SCHEDULER": "0"}).start()
    try:
        worker.wait_consuming([topology.queue_name(subscriptions.by_consumer("users.order_emails")),
                               f"{namespace}users"])
        email, order = _place_order(split_shop)

        relayed = subprocess.run(
            [sys.executable, "-c", RELAY], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
            env={**deployment.role_env("orders"), **broker_env, "ECOMMERCE_INPROCESS_SCHEDULER": "0",
                 "PATH": os.environ.get("PATH", "")})
        assert relayed.returncode == 0, relayed.stderr[-3000:]
        assert "published" in relayed.stdout

        received = smtp_server.sink.wait_for(email, timeout=30)
    finally:
        worker.stop()
    assert [mail.subject for mail in received] == [f"We received your order {order['number']}"]
    assert "60.00 USD" in received[0].part("text/plain")
