"""The relay against a real RabbitMQ: a row is marked published only once the broker confirmed its message and some
queue took it; an external subscriber gets the public envelope; a broker that is down, hanging or refusing leaves
rows pending, their attempts counted, and they go out once it is back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from kombu import Connection, Queue, binding

from ecommerce.events import broker, relay, subscriptions, topology
from ecommerce.events.models import OutboxEvent
from ecommerce.events.outbox import EVENT_TYPES, record_event
from ecommerce.events.relay import relay_outbox
from tests.support.broker import url_through
from tests.support.tcp_proxy import TcpProxy
from tests.support.workers import message_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def external_queue(rabbitmq: str, settings: Any) -> Iterator[Callable[..., Queue]]:
    """Bind a queue of an outside subscriber to ``shop.events`` (in this test's namespace)."""
    made: list[str] = []

    def bind(suffix: str, *routing_keys: str, arguments: dict[str, Any] | None = None) -> Queue:
        name = f"{settings.ECOMMERCE_BROKER_NAMESPACE}external.{suffix}"
        exchange = topology.events_exchange()
        queue = Queue(name, durable=True, queue_arguments=arguments or {},
                      bindings=[binding(exchange, routing_key=key) for key in routing_keys])
        with Connection(rabbitmq) as connection:
            exchange(connection.channel()).declare()
            queue(connection.channel()).declare()
        made.append(name)
        return queue

    yield bind
    with Connection(rabbitmq) as connection:
        for name in made:
            with contextlib.suppress(Exception):
                connection.channel().queue_delete(name)


def _drain(url: str, queue_name: str) -> list[Any]:
    messages = []
    with Connection(url) as connection:
        channel = connection.channel()
        while (message := Queue(queue_name)(channel).get(no_ack=True)) is not None:
            messages.append(message)
    return messages


def _make_due(*events: OutboxEvent) -> None:
    OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(next_attempt_at=None)


def test_an_external_subscriber_receives_the_public_envelope_once(rabbitmq: str, external_queue) -> None:
    queue = external_queue("orders", "order.#")
    with transaction.atomic():
        created = record_event("order.created", {"order_id": "one", "number": "ORD-1", "total": "10.00"})
        canceled = record_event("order.canceled", {"order_id": "one", "number": "ORD-1", "total": "10.00"})

    assert relay_outbox() == 2
    assert relay_outbox() == 0

    received = _drain(rabbitmq, queue.name)
    assert [message.delivery_info["routing_key"] for message in received] == ["order.created", "order.canceled"]
    first = received[0]
    assert json.loads(first.body) == created.envelope()
    assert first.content_type == "application/json"
    assert first.properties["message_id"] == str(created.id)
    assert first.properties["delivery_mode"] == 2
    assert first.properties["type"] == "order.created"
    assert set(OutboxEvent.objects.filter(published_at__isnull=False).values_list("pk", flat=True)) == {
        created.pk, canceled.pk}


def test_the_relay_declares_every_internal_subscriber_queue_before_publishing(rabbitmq: str) -> None:
    with transaction.atomic():
        record_event("stock.low", {"product_id": 1, "sku": "S", "available": 1, "threshold": 5})
        record_event("order.paid", {"order_id": "two"})

    assert relay_outbox() == 2

    digest_queue = topology.queue_name(subscriptions.by_consumer("users.stock_low_digest"))
    email_queue = topology.queue_name(subscriptions.by_consumer("users.order_emails"))
    assert message_count(rabbitmq, digest_queue) == 1
    assert message_count(rabbitmq, email_queue) == 1
    assert message_count(rabbitmq, f"{email_queue}.dead") == 0


def test_an_unroutable_event_is_never_marked_published(rabbitmq: str, external_queue,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Every type has a consumer in the shop; with the payment mails' consumer taken away, nothing would bind a queue
    # for payment events, and no outsider has bound one either.
    payment_mails = subscriptions.by_consumer("users.payment_emails")
    monkeypatch.setattr(topology, "SUBSCRIPTIONS",
                        tuple(s for s in subscriptions.SUBSCRIPTIONS if s is not payment_mails))
    with transaction.atomic():
        event = record_event("payment.succeeded", {"payment_id": "p1", "order_id": "o1", "amount": "5.00",
                                                   "currency": "USD"})

    assert relay_outbox() == 0

    event.refresh_from_db()
    assert event.published_at is None
    assert event.attempts == 1
    assert event.next_attempt_at is not None
    assert "no queue is bound for 'payment.succeeded'" in event.last_error

    queue = external_queue("payments", "payment.#")
    _make_due(event)
    assert relay_outbox() == 1
    event.refresh_from_db()
    assert event.published_at is not None
    assert [json.loads(m.body)["id"] for m in _drain(rabbitmq, queue.name)] == [str(event.id)]


def test_every_event_type_the_shop_publishes_is_taken_by_a_queue_of_its_own(rabbitmq: str) -> None:
    with transaction.atomic():
        events = [record_event(event_type, {"order_id": "o1"}) for event_type in sorted(EVENT_TYPES)]

    assert relay_outbox() == len(events)

    assert not OutboxEvent.objects.filter(published_at=None).exists()
    for subscription in subscriptions.SUBSCRIPTIONS:
        assert message_count(rabbitmq, topology.queue_name(subscription)) == len(subscription.event_types)


def test_a_message_the_broker_refuses_is_not_marked_published(rabbitmq: str, external_queue) -> None:
    # A subscriber's queue that is full and rejects new messages makes RabbitMQ answer basic.nack.
    external_queue("full", "order.#", arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    with transaction.atomic():
        event = record_event("order.created", {"order_id": "refused"})

    assert relay_outbox() == 0

    event.refresh_from_db()
    assert event.published_at is None
    assert event.attempts == 1
    assert "MessageNacked" in event.last_error


def test_rows_stay_pending_while_the_broker_is_unreachable_and_go_out_when_it_is_back(
        rabbitmq: str, settings: Any, broker_proxy: TcpProxy, external_queue) -> None:
    queue = external_queue("outage", "order.#")
    settings.CELERY_BROKER_URL = url_through(broker_proxy.port)
    broker_proxy.cut()
    with transaction.atomic():
        events = [record_event("order.created", {"order_id": f"o{n}"}) for n in range(3)]

    assert relay_outbox() == 0
    assert relay_outbox() == 0  # not due yet: nothing is tried, nothing is charged

    rows = OutboxEvent.objects.filter(pk__in=[e.pk for e in events])
    assert {(row.published_at, row.attempts) for row in rows} == {(None, 1)}
    assert all(row.next_attempt_at is not None for row in rows)

    broker_proxy.restore()
    _make_due(*events)
    assert relay_outbox() == 3
    assert len(_drain(rabbitmq, queue.name)) == 3


def test_nothing_is_marked_published_while_the_broker_does_not_confirm(
        rabbitmq: str, settings: Any, broker_proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CELERY_BROKER_URL = url_through(broker_proxy.port)
    monkeypatch.setattr(broker, "IO_TIMEOUT_SECONDS", 1.0)
    declare = topology.declare

    def declare_then_hang(channel: object) -> None:
        declare(channel)
        broker_proxy.freeze()  # the broker stops answering right before the first publish

    monkeypatch.setattr(topology, "declare", declare_then_hang)
    with transaction.atomic():
        event = record_event("order.created", {"order_id": "unconfirmed"})

    assert relay_outbox() == 0

    event.refresh_from_db()
    assert event.published_at is None
    assert event.attempts == 1

    broker_proxy.restore()
    monkeypatch.setattr(topology, "declare", declare)
    _make_due(event)
    assert relay_outbox() == 1


def test_backoff_doubles_and_is_capped(settings: Any) -> None:
    settings.ECOMMERCE_OUTBOX_RETRY_MAX_SECONDS = 60

    assert [relay.backoff(n).total_seconds() for n in (1, 2, 3, 5, 6, 30)] == [2, 4, 8, 32, 60, 60]
