"""Events across roles of a split deployment: the orders role's relay publishes an order's events from its own
outbox, the users role's worker (its own database, its own consumer queues) mails the customer, and the products
role's worker commits a shipped order's stock in the catalog's database.

The deployment under test serves without a broker, so an event another role consumes waits in the orders role's
outbox (its servers deliver only their own consumers' events); here the orders role's relay runs with the broker,
exactly as its worker runs it, and real workers of the users and products roles take it from there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ecommerce.events import subscriptions, topology
from scripts.deployment import ROOT, Deployment
from tests.e2e.conftest import USER_PASSWORD, Shop, eventually, unique_email
from tests.support.smtp import SmtpServer
from tests.support.workers import CeleryWorker, message_count

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242424242424242"

# Publishes everything pending; with REPUBLISH_ORDER_ID, first marks that order's events pending again, as after a
# relay that crashed between the broker's confirms and marking its rows.
RELAY = """
import os
import django
django.setup()
from ecommerce.events.models import OutboxEvent
from ecommerce.events.relay import relay_outbox
again = os.environ.get("REPUBLISH_ORDER_ID")
if again:
    OutboxEvent.objects.filter(data__order_id=again).update(published_at=None, next_attempt_at=None)
total = 0
while published := relay_outbox():
    total += published
print("published", total)
"""


def _place_order(shop: Shop) -> tuple[str, dict[str, Any]]:
    email, _, order = _place_order_as_new_customer(shop)
    return email, order


def _place_order_as_new_customer(shop: Shop) -> tuple[str, str, dict[str, Any]]:
    """A new customer buys two units of a new product (nine in stock): their e-mail, token and order."""
    email = unique_email("split-events")
    with shop.client() as anonymous:
        assert anonymous.post("/auth/register", json={"email": email, "password": USER_PASSWORD,
                                                      "name": "Split Shopper"}).status_code == 201
    sku = f"SPL-{uuid.uuid4().hex[:8].upper()}"
    with shop.client(shop.staff_token("catalog@example.com")) as catalog:
        product = catalog.post("/products", json={"sku": sku, "name": f"Kettle {sku}", "price": "30.00",
                                                  "stock": 9})
    assert product.status_code == 201, product.text
    token = shop.login(email, USER_PASSWORD)
    with shop.client(token) as customer:
        address = customer.post("/users/me/addresses", json={
            "full_name": "Split Shopper", "street": "2 Side St", "city": "Springfield", "zip_code": "62701",
            "country": "US", "is_default": True})
        assert customer.post("/cart/items", json={"product_id": product.json()["id"], "quantity": 2}).status_code == 201
        order = customer.post("/orders", json={"address_id": address.json()["id"]},
                              headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.text
    return email, token, order.json()


def _relay_orders_outbox(deployment: Deployment, broker_env: dict[str, str], **env: str) -> None:
    """The orders role's relay, as its worker runs it."""
    relayed = subprocess.run(
        [sys.executable, "-c", RELAY], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**deployment.role_env("orders"), **broker_env, "ECOMMERCE_INPROCESS_SCHEDULER": "0",
             "PATH": os.environ.get("PATH", ""), **env})
    assert relayed.returncode == 0, relayed.stderr[-3000:]
    assert "published" in relayed.stdout


def _role_worker(deployment: Deployment, role: str, broker_env: dict[str, str], smtp: SmtpServer,
                 log_dir: Path) -> CeleryWorker:
    return CeleryWorker(broker_url=broker_env["CELERY_BROKER_URL"], namespace=broker_env["ECOMMERCE_BROKER_NAMESPACE"],
                        log_path=log_dir / f"worker-{role}.log",
                        env={**deployment.role_env(role), **broker_env, "EMAIL_URL": smtp.url,
                             "ECOMMERCE_INPROCESS_SCHEDULER": "0"}).start()


def _rows(deployment: Deployment, role: str, sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
    with psycopg.connect(deployment.database_url(role)) as database:
        return database.execute(sql, parameters).fetchall()


def test_an_order_event_travels_from_the_orders_outbox_to_the_users_worker(
        split_shop: Shop, rabbitmq: str, settings: Any, smtp_server: SmtpServer, tmp_path: Path) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    namespace = settings.ECOMMERCE_BROKER_NAMESPACE
    broker_env = {"CELERY_BROKER_URL": rabbitmq, "ECOMMERCE_BROKER_NAMESPACE": namespace}
    worker = _role_worker(deployment, "users", broker_env, smtp_server, tmp_path)
    try:
        worker.wait_consuming([topology.queue_name(subscriptions.by_consumer("users.order_emails")),
                               f"{namespace}users"])
        email, order = _place_order(split_shop)

        _relay_orders_outbox(deployment, broker_env)

        received = smtp_server.sink.wait_for(email, timeout=30)
    finally:
        worker.stop()
    assert [mail.subject for mail in received] == [f"We received your order {order['number']}"]
    assert "60.00 USD" in received[0].part("text/plain")


def test_a_paid_order_is_shipped_with_every_event_taking_effect_once_in_its_role(
        split_shop: Shop, rabbitmq: str, settings: Any, smtp_server: SmtpServer, tmp_path: Path) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    namespace = settings.ECOMMERCE_BROKER_NAMESPACE
    broker_env = {"CELERY_BROKER_URL": rabbitmq, "ECOMMERCE_BROKER_NAMESPACE": namespace}
    workers = {role: _role_worker(deployment, role, broker_env, smtp_server, tmp_path)
               for role in ("users", "products")}
    consumers = {role: [s for s in subscriptions.SUBSCRIPTIONS if s.role == role] for role in workers}
    try:
        for role, worker in workers.items():
            worker.wait_consuming([topology.queue_name(s) for s in consumers[role]] + [f"{namespace}{role}"])

        # given an order paid with the good card (the sandbox's webhook reaches the gateway) and shipped by staff
        email, token, order = _place_order_as_new_customer(split_shop)
        with split_shop.client(token) as customer:
            payment = customer.post(f"/orders/{order['id']}/payments", headers={"Idempotency-Key": uuid.uuid4().hex})
            assert payment.status_code == 201, payment.text
            confirmed = customer.post(f"/payments/{payment.json()['id']}/confirm", json={"card_number": GOOD_CARD})
            assert confirmed.status_code == 200, confirmed.text
            assert eventually(lambda: customer.get(f"/orders/{order['id']}").json()["status"] == "paid", timeout=30)
        with split_shop.client(split_shop.staff_token("orders@example.com")) as staff:
            shipped = staff.post(f"/orders/{order['id']}/status", json={"status": "shipped"})
            assert shipped.status_code == 200, shipped.text

        # when the orders role's relay publishes its events, and then publishes them all once more
        _relay_orders_outbox(deployment, broker_env)
        events = _rows(deployment, "orders", "SELECT id, type FROM events_outboxevent WHERE data->>'order_id' = %s",
                       [order["id"]])
        assert sorted(event_type for _, event_type in events) == sorted(
            ["order.created", "payment.succeeded", "order.paid", "order.shipped"])
        owed = {role: sum(1 for _, event_type in events for s in consumers[role] if s.takes(event_type))
                for role in workers}
        ids = [str(event_id) for event_id, _ in events]

        def handled(role: str) -> int:
            return _rows(deployment, role, "SELECT count(*) FROM events_processedevent WHERE event_id::text = ANY(%s)",
                         [ids])[0][0]

        assert eventually(lambda: all(handled(role) == owed[role] for role in workers), timeout=60), (
            {role: handled(role) for role in workers}, owed)
        smtp_server.sink.wait_for(email, count=4, timeout=60)
        _relay_orders_outbox(deployment, broker_env, REPUBLISH_ORDER_ID=order["id"])
        queues = [topology.queue_name(s) for role in workers for s in consumers[role]]
        assert eventually(lambda: not any(message_count(rabbitmq, name) for name in queues), timeout=60)
        time.sleep(2)  # time enough for a second effect, were there going to be one
    finally:
        for worker in workers.values():
            worker.stop()

    # then each mail reached the SMTP server once, and the two units left the catalog's stock on hand once
    number = order["number"]
    assert sorted(mail.subject for mail in smtp_server.sink.to(email)) == sorted([
        f"We received your order {number}", f"Payment received for order {number}", f"Receipt for order {number}",
        f"Your order {number} is on its way"])
    assert {role: handled(role) for role in workers} == owed
    product_id = order["items"][0]["product_id"]
    assert _rows(deployment, "products", "SELECT stock_on_hand, stock_reserved FROM products_product WHERE id = %s",
                 [product_id]) == [(7, 0)]
