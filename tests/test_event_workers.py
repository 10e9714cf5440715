"""Events through real Celery worker processes and a real RabbitMQ, as deployed: the relay publishes, the worker's
consumer handles the event, its task mails the customer through a real SMTP server. Each consumer's effect happens
once whatever the broker or the worker does: an outage, a redelivery, a worker killed mid-message, a consumer that
keeps failing until an operator replays its dead letter.

The broker is never stopped: a proxy the test controls stands between the shop and RabbitMQ and is cut instead."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from kombu import Connection, Queue

from apps.products.models import Product
from ecommerce.contracts.users import UserDTO
from ecommerce.events import subscriptions, topology
from ecommerce.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from ecommerce.events.relay import relay_outbox
from ecommerce.roles import Role
from tests.support.broker import url_through
from tests.support.locks import consumer_held_up, sessions_waiting_on_a_lock
from tests.support.shop import place_order
from tests.support.smtp import SmtpServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.workers import CeleryWorker, event_queue_names, events_settled, message_count

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ORDER_EMAILS = subscriptions.by_consumer("users.order_emails")


@pytest.fixture
def customer(make_user: Callable[..., UserDTO]) -> UserDTO:
    return make_user(email="ann@example.com", name="Ann Example")


def _worker(start_worker: Callable[..., CeleryWorker], settings: Any, smtp: SmtpServer, *,
            broker_url: str | None = None, **env: str) -> CeleryWorker:
    worker = start_worker(broker_url=broker_url, env={"EMAIL_URL": smtp.url, **env})
    worker.wait_consuming(event_queue_names(settings.ECOMMERCE_BROKER_NAMESPACE))
    return worker


def _settled(rabbitmq: str, settings: Any) -> None:
    events_settled(rabbitmq, settings.ECOMMERCE_BROKER_NAMESPACE)


def _stock(order: dict[str, Any]) -> tuple[int, int]:
    """Stock on hand and reserved of the (one) product ``order`` bought."""
    product = Product.objects.get(pk=order["items"][0]["product_id"])
    return product.stock_on_hand, product.stock_reserved


def _relay_until_published(*, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while OutboxEvent.objects.filter(published_at=None).exists():
        assert time.monotonic() < deadline, list(OutboxEvent.objects.values("type", "attempts", "last_error"))
        relay_outbox()
        time.sleep(0.2)


def test_a_worker_mails_the_customer_through_smtp_once_however_often_the_event_arrives(
        rabbitmq: str, settings: Any, smtp_server: SmtpServer, start_worker: Callable[..., CeleryWorker],
        client_for: Callable[..., Any], customer: UserDTO) -> None:
    _worker(start_worker, settings, smtp_server)
    order = place_order(client_for, customer, price="12.50", quantity=2)

    assert relay_outbox() == 1

    received = smtp_server.sink.wait_for("ann@example.com")
    assert received[0].subject == f"We received your order {order['number']}"
    text, html = received[0].part("text/plain"), received[0].part("text/html")
    item = order["items"][0]
    for body in (text, html):
        assert order["number"] in body
        assert item["name"] in body
        assert item["sku"] in body
        assert f"{order['total']} USD" in body
        assert "25.00 USD" in body

    # The relay publishes the same event again (as after a crash between the broker's confirm and the mark).
    OutboxEvent.objects.update(published_at=None)
    assert relay_outbox() == 1
    _settled(rabbitmq, settings)
    assert len(smtp_server.sink.to("ann@example.com")) == 1
    assert ProcessedEvent.objects.filter(consumer=ORDER_EMAILS.consumer).count() == 1


def test_events_written_while_the_broker_is_unreachable_are_all_delivered_once_when_it_returns(
        rabbitmq: str, settings: Any, smtp_server: SmtpServer, start_worker: Callable[..., CeleryWorker],
        broker_proxy: TcpProxy, client_for: Callable[..., Any], customer: UserDTO) -> None:
    proxied = url_through(broker_proxy.port)
    _worker(start_worker, settings, smtp_server, broker_url=proxied)
    settings.CELERY_BROKER_URL = proxied
    staff = client_for(Role.ORDER_STAFF)

    # while the broker is unreachable: two orders, one canceled, and a third paid (offline) and shipped
    broker_proxy.cut()
    first = place_order(client_for, customer)
    second = place_order(client_for, customer)
    canceled = client_for(customer).post(f"/api/v1/orders/{second['id']}/cancel")
    third = place_order(client_for, customer, quantity=3)
    for status in ("paid", "shipped"):
        moved = staff.post(f"/api/v1/orders/{third['id']}/status", {"status": status}, format="json")
        assert moved.status_code == 200, moved.content
    assert canceled.status_code == 200, canceled.content
    assert relay_outbox() == 0
    owed = ["order.created"] * 3 + ["order.canceled", "payment.succeeded", "order.paid", "order.shipped"]
    assert sorted(OutboxEvent.objects.filter(published_at=None, attempts=1).values_list("type", flat=True)) == sorted(
        owed)
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["background"]["broker"] == "unavailable"
    assert ready.json()["background"]["outbox"]["pending"] == len(owed)
    # The canceled order's stock is back on sale at once; the shipped one's is still reserved, not yet taken off hand.
    assert _stock(second) == (50, 0)
    assert _stock(third) == (50, 3)

    broker_proxy.restore()
    _relay_until_published()
    smtp_server.sink.wait_for("ann@example.com", count=7, timeout=60)
    _settled(rabbitmq, settings)
    # and the relay publishes every event a second time (as after a crash between the broker's confirm and the mark)
    OutboxEvent.objects.update(published_at=None, next_attempt_at=None)
    _relay_until_published()
    _settled(rabbitmq, settings)

    assert sorted(mail.subject for mail in smtp_server.sink.to("ann@example.com")) == sorted([
        f"We received your order {first['number']}", f"We received your order {second['number']}",
        f"Your order {second['number']} was canceled", f"We received your order {third['number']}",
        f"Payment received for order {third['number']}", f"Receipt for order {third['number']}",
        f"Your order {third['number']} is on its way"])
    assert (_stock(first), _stock(second), _stock(third)) == ((50, 2), (50, 0), (47, 0))
    assert ProcessedEvent.objects.count() == sum(len(subscriptions.subscribers_of(t)) for t in owed)
    assert not DeadLetter.objects.exists()


def test_a_worker_killed_mid_message_gets_it_again_and_the_effect_happens_once(
        rabbitmq: str, settings: Any, smtp_server: SmtpServer, start_worker: Callable[..., CeleryWorker],
        client_for: Callable[..., Any], customer: UserDTO) -> None:
    worker = _worker(start_worker, settings, smtp_server, ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS="300")
    order = place_order(client_for, customer)
    event = OutboxEvent.objects.get(type="order.created")

    with consumer_held_up(ORDER_EMAILS.consumer, event.id):
        assert relay_outbox() == 1
        deadline = time.monotonic() + 30
        while sessions_waiting_on_a_lock() == 0:  # the worker is inside the consumer's transaction, waiting
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.1)
        worker.kill()

    assert message_count(rabbitmq, topology.queue_name(ORDER_EMAILS)) == 1  # unacknowledged, so back in the queue
    assert not ProcessedEvent.objects.exists()
    _worker(start_worker, settings, smtp_server)

    received = smtp_server.sink.wait_for("ann@example.com")
    _settled(rabbitmq, settings)
    assert [mail.subject for mail in received] == [f"We received your order {order['number']}"]
    assert len(smtp_server.sink.to("ann@example.com")) == 1
    assert ProcessedEvent.objects.filter(consumer=ORDER_EMAILS.consumer).count() == 1


def test_a_consumer_that_keeps_failing_is_dead_lettered_with_its_error_and_replayed_by_an_operator(
        rabbitmq: str, settings: Any, smtp_server: SmtpServer, start_worker: Callable[..., CeleryWorker],
        client_for: Callable[..., Any], customer: UserDTO) -> None:
    worker = _worker(start_worker, settings, smtp_server, ECOMMERCE_EVENT_RETRY_DELAYS="1,1",
                     ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS="0.3")
    settings.ECOMMERCE_EVENT_RETRY_DELAYS = [1, 1]
    order = place_order(client_for, customer)
    event = OutboxEvent.objects.get(type="order.created")
    dead_queue = topology.dead_letter_queue(ORDER_EMAILS).name

    with consumer_held_up(ORDER_EMAILS.consumer, event.id):
        assert relay_outbox() == 1
        deadline = time.monotonic() + 40
        while not DeadLetter.objects.exists() or message_count(rabbitmq, dead_queue) == 0:
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.2)

    letter = DeadLetter.objects.get()
    assert (letter.consumer, letter.event_id, letter.attempts) == ("users.order_emails", event.id, 3)
    assert letter.error.startswith("OperationalError: canceling statement due to lock timeout")
    with Connection(rabbitmq) as connection:
        dead = Queue(dead_queue)(connection.channel()).get(no_ack=False)
        assert json.loads(dead.body)["id"] == str(event.id)
        assert dead.headers["x-attempt"] == 3
        assert "lock timeout" in dead.headers["x-error"]
        dead.requeue()
    assert smtp_server.sink.to("ann@example.com") == []

    call_command("dead_letters", "replay", "--consumer", ORDER_EMAILS.consumer)

    received = smtp_server.sink.wait_for("ann@example.com")
    assert [mail.subject for mail in received] == [f"We received your order {order['number']}"]
    assert message_count(rabbitmq, dead_queue) == 0
    assert DeadLetter.objects.get().replayed_at is not None
