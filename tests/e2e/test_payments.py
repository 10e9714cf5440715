"""Payments over HTTP in both modes, with the sandbox provider as a shopper meets it: the servers run without a
broker, so the processor's first delivery attempt posts its signed webhook to the deployment's public address (the
gateway, in a split deployment) right after the shopper's card is taken, and the order turns paid through that
webhook alone. Then staff ship it. In the monolith, whose server delivers committed events to its own consumers, every
event of that journey takes effect once: each of the customer's mails is written once and the shipped units leave
stock on hand once (read from the database: the API shows only what is available, which committing leaves alone).
The split deployment under test has no broker, so its events for other roles wait; ``test_split_events`` follows the
same journey there through RabbitMQ and the roles' workers. A declined card, replays and the webhook's refusals are
checked the same way in both modes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.conftest import Customer, Shop, assert_problem, eventually, mails_to

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def _pending_order(customer: Customer, product: dict[str, Any], address_id: int, quantity: int) -> dict[str, Any]:
    added = customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": quantity})
    assert added.status_code == 201, added.text
    placed = customer.api.post("/orders", json={"address_id": address_id},
                               headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    return placed.json()


def _payment(customer: Customer, order_id: str, key: str) -> httpx.Response:
    return customer.api.post(f"/orders/{order_id}/payments", headers={"Idempotency-Key": key})


def stock_on_hand_and_reserved(shop: Shop, product_id: int) -> tuple[int, int]:
    assert shop.deployment is not None
    role = "products" if shop.deployment.is_split else "monolith"
    with psycopg.connect(shop.deployment.database_url(role)) as database:
        row = database.execute("SELECT stock_on_hand, stock_reserved FROM products_product WHERE id = %s",
                               [product_id]).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _outbox_drained(shop: Shop) -> bool:
    return httpx.get(f"{shop.base_url}/readyz", timeout=10).json()["background"]["outbox"]["pending"] == 0


def test_a_paid_order_goes_from_checkout_through_the_webhook_to_shipped(shop: Shop, customer: Customer, make_product,
                                                                       address_of, order_staff: httpx.Client,
                                                                       catalog_staff: httpx.Client) -> None:
    # given a pending order of two units
    product = make_product(price="20.00", stock=3)
    order = _pending_order(customer, product, address_of(customer), quantity=2)

    # when the shopper creates a payment (sending the request twice) and pays with the good card
    key = uuid.uuid4().hex
    created = _payment(customer, order["id"], key)
    replayed = _payment(customer, order["id"], key)
    payment = created.json()
    confirmed = customer.api.post(f"/payments/{payment['id']}/confirm", json={"card_number": GOOD_CARD})

    # then one payment of the order's total exists, and the webhook makes the order paid
    assert created.status_code == 201, created.text
    assert (payment["status"], payment["amount"], payment["provider"]) == ("requires_confirmation", order["total"],
                                                                          "sandbox")
    assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed"), replayed.json()) == (
        201, "true", payment)
    assert confirmed.status_code == 200, confirmed.text
    assert eventually(lambda: customer.api.get(f"/orders/{order['id']}").json()["status"] == "paid", timeout=30)
    paid = customer.api.get(f"/orders/{order['id']}").json()
    assert paid["payment_status"] == "succeeded"
    assert customer.api.get(f"/payments/{payment['id']}").json()["status"] == "succeeded"
    staff_view = order_staff.get(f"/payments/{payment['id']}").json()
    assert (staff_view["status"], staff_view["client_secret"]) == ("succeeded", None)

    # when staff ship it, the stock stays taken
    shipped = order_staff.post(f"/orders/{order['id']}/status", json={"status": "shipped"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    assert catalog_staff.get(f"/products/{product['id']}").json()["stock"] == 1

    if shop.mode != "monolith":
        return
    # and every event of the journey took effect once
    number = order["number"]
    assert eventually(lambda: _outbox_drained(shop), timeout=30)
    def about_the_order() -> list[str]:
        return sorted(str(mail["Subject"]) for mail in mails_to(shop, customer.email) if number in mail["Subject"])

    assert eventually(lambda: len(about_the_order()) >= 4, timeout=30), about_the_order()
    time.sleep(1)  # time enough for a second delivery, were there going to be one
    subjects = about_the_order()
    assert subjects == sorted([f"We received your order {number}", f"Payment received for order {number}",
                               f"Receipt for order {number}", f"Your order {number} is on its way"])
    assert stock_on_hand_and_reserved(shop, product["id"]) == (1, 0)


def test_a_declined_card_fails_the_payment_and_the_order_stays_pending(customer: Customer, make_product,
                                                                       address_of) -> None:
    order = _pending_order(customer, make_product(stock=2), address_of(customer), quantity=1)
    payment = _payment(customer, order["id"], uuid.uuid4().hex).json()

    customer.api.post(f"/payments/{payment['id']}/confirm", json={"card_number": DECLINED_CARD})

    assert eventually(lambda: customer.api.get(f"/payments/{payment['id']}").json()["status"] == "failed",
                      timeout=30)
    assert customer.api.get(f"/payments/{payment['id']}").json()["failure_message"] == "Your card was declined."
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "pending"
    assert_problem(customer.api.post(f"/payments/{payment['id']}/confirm", json={"card_number": GOOD_CARD}), 409,
                   "invalid_transition")


def test_payment_refusals_over_http(customer: Customer, new_customer, make_product, address_of,
                                    anonymous: httpx.Client) -> None:
    order = _pending_order(customer, make_product(stock=2), address_of(customer), quantity=1)
    payment = _payment(customer, order["id"], uuid.uuid4().hex).json()
    stranger = new_customer()

    assert_problem(customer.api.post(f"/orders/{order['id']}/payments"), 400, "validation_error")
    assert_problem(_payment(stranger, order["id"], uuid.uuid4().hex), 404, "not_found")
    assert_problem(stranger.api.get(f"/payments/{payment['id']}"), 404, "not_found")
    assert_problem(customer.api.post(f"/payments/{payment['id']}/confirm", json={"card_number": "4111111111111111"}),
                   400, "validation_error")
    assert_problem(anonymous.post("/payments/webhooks/sandbox", content=b'{"id": "evt_forged"}',
                                  headers={"Content-Type": "application/json"}), 400, "invalid_signature")
    assert_problem(anonymous.post("/payments/webhooks/sandbox", content=b'{"id": "evt_forged"}',
                                  headers={"Sandbox-Signature": "t=1,v1=00"}), 400, "invalid_signature")
    assert_problem(anonymous.post("/payments/webhooks/paypal", content=b"{}"), 404, "not_found")
    assert customer.api.get(f"/payments/{payment['id']}").json()["status"] == "requires_confirmation"
    assert customer.api.post(f"/orders/{order['id']}/cancel").json()["status"] == "canceled"
    assert_problem(_payment(customer, order["id"], uuid.uuid4().hex), 409, "invalid_transition")
