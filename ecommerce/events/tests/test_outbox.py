"""Outbox: events exist exactly when their change committed, and reach RabbitMQ through the relay."""

from __future__ import annotations

import os
import socket
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from kombu import Connection, Queue

from ecommerce.events.models import OutboxEvent
from ecommerce.events.outbox import record_event, record_events
from ecommerce.events.relay import EVENTS_EXCHANGE, relay_outbox
from tests.environment import service_missing

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")


def _broker_answers() -> bool:
    if not BROKER_URL.startswith("amqp"):
        return False
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def rabbitmq(settings) -> str:
    if not _broker_answers():
        service_missing("this test needs RabbitMQ: set CELERY_BROKER_URL=amqp://...")
    settings.CELERY_BROKER_URL = BROKER_URL
    return BROKER_URL


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event("order.created", {"order_id": "x"})


@pytest.mark.django_db(transaction=True)
def test_several_events_outside_a_transaction_are_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_events([("stock.low", {"product_id": 1})])
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_several_events_of_one_change_are_written_in_one_statement(django_assert_num_queries) -> None:
    with transaction.atomic(), django_assert_num_queries(1):
        record_events([("stock.low", {"product_id": number, "price": Decimal("1.50")}) for number in range(5)])

    assert sorted(event.data["product_id"] for event in OutboxEvent.objects.filter(type="stock.low")) == list(range(5))
    assert OutboxEvent.objects.filter(type="stock.low").first().data["price"] == "1.50"


@pytest.mark.django_db
def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown event type"), transaction.atomic():
        record_event("order.exploded", {})


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            record_event("order.created", {"order_id": "rolled-back"})
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_that_fails()

    assert not OutboxEvent.objects.filter(data__order_id="rolled-back").exists()


@pytest.mark.django_db
def test_events_carry_the_public_shape() -> None:
    with transaction.atomic():
        event = record_event("stock.low", {"product_id": 3, "price": Decimal("1.50")})

    envelope = event.envelope()
    assert set(envelope) == {"id", "type", "occurred_at", "version", "data"}
    assert envelope["data"] == {"product_id": 3, "price": "1.50"}
    uuid.UUID(envelope["id"])


@pytest.mark.django_db
def test_without_a_broker_events_wait_in_the_outbox(settings) -> None:
    settings.CELERY_BROKER_URL = ""
    with transaction.atomic():
        record_event("order.created", {"order_id": "waiting"})

    assert relay_outbox() == 0
    assert OutboxEvent.objects.get(data__order_id="waiting").published_at is None


@pytest.mark.django_db
def test_the_relay_publishes_pending_events_to_rabbitmq_once(rabbitmq: str) -> None:
    queue_name = f"test-outbox-{uuid.uuid4().hex}"
    with Connection(rabbitmq) as broker:
        queue = Queue(queue_name, exchange=EVENTS_EXCHANGE, routing_key="order.#", auto_delete=True)
        queue(broker.channel()).declare()
        with transaction.atomic():
            first = record_event("order.created", {"order_id": "one"})
            second = record_event("order.canceled", {"order_id": "one"})
        OutboxEvent.objects.exclude(pk__in=[first.pk, second.pk]).update(published_at=first.occurred_at)

        assert relay_outbox() == 2
        assert relay_outbox() == 0

        # The exchange is shared: another test run's relay may route its own order events to this queue too.
        ours = {str(first.id), str(second.id)}
        received = []
        bound = queue(broker.channel())
        for _ in range(1000):
            message = bound.get(no_ack=True)
            if message is None:
                break
            if message.payload["id"] in ours:
                received.append(message.payload)
        bound.delete()

    assert [m["type"] for m in received] == ["order.created", "order.canceled"]
    assert received[0]["id"] == str(first.id)
    assert OutboxEvent.objects.filter(pk__in=[first.pk, second.pk], published_at=None).count() == 0


@pytest.mark.django_db
def test_a_broker_outage_keeps_events_pending(settings) -> None:
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"
    with transaction.atomic():
        record_event("order.created", {"order_id": "outage"})

    assert relay_outbox() == 0
    event = OutboxEvent.objects.get(data__order_id="outage")
    assert event.published_at is None
    assert event.attempts == 1
