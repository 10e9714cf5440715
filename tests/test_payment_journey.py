"""The payment journey through the public API with a real worker process and a real RabbitMQ, as deployed: checkout,
a payment, the shopper's card on the sandbox's page, the processor's signed webhook (delivered by its own task into
the app, in process), the order paid, then shipped. The relay publishes every event; the worker's consumers mail the
customer through a real SMTP server and commit the shipped stock, each once even when every event is published
twice. A declined card leaves the order pending with the payment failed, and the customer is told once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from apps.products.models import Product, ReservationStatus, StockReservation
from ecommerce.contracts.users import UserDTO
from ecommerce.events.models import DeadLetter, OutboxEvent
from ecommerce.events.relay import relay_outbox
from ecommerce.roles import Role
from tests import sandbox_webhooks as webhook_fixtures
from tests.sandbox_webhooks import SandboxWebhooks
from tests.support.shop import place_order
from tests.support.smtp import SmtpServer
from tests.support.workers import CeleryWorker, event_queue_names, events_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
EMAIL = "pat@example.com"

sandbox_webhooks = webhook_fixtures.sandbox_webhooks  # the processor's webhooks, delivered in process


@pytest.fixture
def worker(rabbitmq: str, settings: Any, smtp_server: SmtpServer,
           start_worker: Callable[..., CeleryWorker]) -> CeleryWorker:
    started = start_worker(env={"EMAIL_URL": smtp_server.url})
    started.wait_consuming(event_queue_names(settings.ECOMMERCE_BROKER_NAMESPACE))
    return started


@pytest.fixture
def customer(make_user: Callable[..., UserDTO]) -> UserDTO:
    return make_user(email=EMAIL, name="Pat Example")


def _pay(shopper: Any, order: dict[str, Any], card: str, webhooks: SandboxWebhooks) -> dict[str, Any]:
    created = shopper.post(f"/api/v1/orders/{order['id']}/payments", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert created.status_code == 201, created.content
    payment = created.json()
    confirmed = shopper.post(f"/api/v1/payments/{payment['id']}/confirm", {"card_number": card}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    # The processor's task runs when the confirmation commits (tasks are eager here); whatever is still owed, now.
    assert all(webhooks.deliver())
    assert webhooks.owed() == []
    assert len(webhooks.transport.requests) == 1
    return shopper.get(f"/api/v1/payments/{payment['id']}").json()


def _publish_everything(rabbitmq: str, settings: Any) -> None:
    deadline = time.monotonic() + 30
    while OutboxEvent.objects.filter(published_at=None).exists():
        assert time.monotonic() < deadline, list(OutboxEvent.objects.filter(published_at=None).values(
            "type", "attempts", "last_error"))
        relay_outbox()
        time.sleep(0.1)
    events_settled(rabbitmq, settings.ECOMMERCE_BROKER_NAMESPACE)


def _publish_everything_again(rabbitmq: str, settings: Any) -> None:
    """As after a relay that crashed between the broker's confirms and marking its rows."""
    OutboxEvent.objects.update(published_at=None, next_attempt_at=None)
    _publish_everything(rabbitmq, settings)


def test_a_paid_order_is_shipped_with_every_event_taking_effect_once(
        rabbitmq: str, settings: Any, worker: CeleryWorker, smtp_server: SmtpServer,
        client_for: Callable[..., Any], customer: UserDTO, sandbox_webhooks: SandboxWebhooks) -> None:
    # given an order of three units, paid with the good card and then shipped
    order = place_order(client_for, customer, price="12.50", quantity=3)
    shopper = client_for(customer)
    payment = _pay(shopper, order, GOOD_CARD, sandbox_webhooks)
    assert payment["status"] == "succeeded"
    assert shopper.get(f"/api/v1/orders/{order['id']}").json()["status"] == "paid"
    shipped = client_for(Role.ORDER_STAFF).post(f"/api/v1/orders/{order['id']}/status", {"status": "shipped"},
                                                format="json")
    assert shipped.status_code == 200, shipped.content

    # when the relay publishes its events, twice over
    _publish_everything(rabbitmq, settings)
    _publish_everything_again(rabbitmq, settings)

    # then the customer got each mail once, the receipt naming the order's number, lines and total
    number = order["number"]
    mails = {mail.subject: mail for mail in smtp_server.sink.to(EMAIL)}
    assert sorted(mails) == sorted([f"We received your order {number}", f"Payment received for order {number}",
                                    f"Receipt for order {number}", f"Your order {number} is on its way"])
    assert len(smtp_server.sink.to(EMAIL)) == 4
    receipt = mails[f"Receipt for order {number}"]
    item = order["items"][0]
    for body in (receipt.part("text/plain"), receipt.part("text/html")):
        assert f"We received your payment of {order['total']} USD for order {number}." in body
        assert payment["id"] in body
        assert item["name"] in body
        assert item["sku"] in body
        assert "37.50 USD" in body
    # and the three units left stock on hand once, when the catalog took order.shipped
    product = Product.objects.get(pk=item["product_id"])
    assert (product.stock_on_hand, product.stock_reserved) == (47, 0)
    assert StockReservation.objects.get(order_id=order["id"]).status == ReservationStatus.COMMITTED
    assert not DeadLetter.objects.exists()


def test_a_declined_card_leaves_the_order_pending_and_tells_the_customer_once(
        rabbitmq: str, settings: Any, worker: CeleryWorker, smtp_server: SmtpServer,
        client_for: Callable[..., Any], customer: UserDTO, sandbox_webhooks: SandboxWebhooks) -> None:
    order = place_order(client_for, customer)
    shopper = client_for(customer)

    payment = _pay(shopper, order, DECLINED_CARD, sandbox_webhooks)
    _publish_everything(rabbitmq, settings)
    _publish_everything_again(rabbitmq, settings)

    assert (payment["status"], payment["failure_message"]) == ("failed", "Your card was declined.")
    placed = shopper.get(f"/api/v1/orders/{order['id']}").json()
    assert (placed["status"], placed["payment_status"]) == ("pending", "failed")
    subjects = sorted(mail.subject for mail in smtp_server.sink.to(EMAIL))
    assert subjects == sorted([f"We received your order {order['number']}",
                               f"Your payment for order {order['number']} did not go through"])
    declined = next(mail for mail in smtp_server.sink.to(EMAIL) if "did not go through" in mail.subject)
    assert "Your card was declined." in declined.part("text/plain")
    product = Product.objects.get(pk=order["items"][0]["product_id"])
    assert (product.stock_on_hand, product.stock_reserved) == (50, 2)  # still reserved for the waiting order
