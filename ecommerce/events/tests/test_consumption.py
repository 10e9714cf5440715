"""A consumer's messages on a real RabbitMQ, handled as a worker handles them: acknowledged once the effect
committed; retried through the consumer's own delay queue with the attempt in the headers; then dead-lettered with
the error in the headers and the table; listed and replayed by ``manage.py dead_letters``."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from kombu import Connection, Queue

from ecommerce.contracts.users import UserDTO
from ecommerce.events import subscriptions, topology
from ecommerce.events.consumption import message_handle
from ecommerce.events.models import DeadLetter, ProcessedEvent
from ecommerce.events.outbox import record_event
from ecommerce.events.relay import relay_outbox
from tests.support.events import order_data
from tests.support.locks import consumer_held_up
from tests.support.workers import message_count

pytestmark = [pytest.mark.django_db(transaction=True)]

ORDER_EMAILS = subscriptions.by_consumer("users.order_emails")


def _handle_next(url: str, queue_name: str, *, wait: float = 0.0) -> dict[str, Any] | None:
    """Take the next message from the queue and handle it as the worker would; its headers, or None if empty."""
    deadline = time.monotonic() + wait
    with Connection(url) as connection:
        queue = Queue(queue_name)(connection.channel())
        while (message := queue.get(no_ack=False, accept=["json"])) is None:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)
        headers = dict(message.headers or {})
        message_handle(ORDER_EMAILS, message)
        assert message.acknowledged
        return headers


def test_a_handled_message_is_acknowledged_after_its_effect_committed(
        rabbitmq: str, make_user: Callable[..., UserDTO]) -> None:
    customer = make_user(email="ann@example.com")
    with transaction.atomic():
        event = record_event("order.created", order_data(user_id=customer.id, number="ORD-ACK"))
    assert relay_outbox() == 1
    queue = topology.queue_name(ORDER_EMAILS)

    assert _handle_next(rabbitmq, queue) == {}

    assert ProcessedEvent.objects.filter(consumer=ORDER_EMAILS.consumer, event_id=event.id).exists()
    assert [m.subject for m in mail.outbox] == ["We received your order ORD-ACK"]
    assert message_count(rabbitmq, queue) == 0


@pytest.mark.postgres
def test_a_consumer_that_keeps_failing_is_retried_then_dead_lettered_then_replayed(
        rabbitmq: str, settings: Any, make_user: Callable[..., UserDTO]) -> None:
    settings.ECOMMERCE_EVENT_RETRY_DELAYS = [1]
    settings.ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    customer = make_user(email="ann@example.com")
    with transaction.atomic():
        event = record_event("order.shipped", order_data(user_id=customer.id, number="ORD-DLQ"))
    assert relay_outbox() == 1
    queue = topology.queue_name(ORDER_EMAILS)
    retry_queue = topology.retry_queue(ORDER_EMAILS, 1).name
    dead_queue = topology.dead_letter_queue(ORDER_EMAILS).name

    with consumer_held_up(ORDER_EMAILS.consumer, event.id):
        assert _handle_next(rabbitmq, queue) == {}
        assert message_count(rabbitmq, retry_queue) == 1  # waits out its delay there, then comes back
        retried = _handle_next(rabbitmq, queue, wait=10)
        assert retried is not None
        assert retried[topology.ATTEMPT_HEADER] == 2
        assert "lock timeout" in retried[topology.ERROR_HEADER]

    assert message_count(rabbitmq, queue) == 0
    letter = DeadLetter.objects.get()
    assert (letter.consumer, letter.event_id, letter.event_type, letter.attempts) == (
        "users.order_emails", event.id, "order.shipped", 2)
    assert "LockNotAvailable" in letter.error
    with Connection(rabbitmq) as connection:
        dead = Queue(dead_queue)(connection.channel()).get(no_ack=True)
    assert dead is not None
    assert json.loads(dead.body)["id"] == str(event.id)
    assert dead.headers[topology.CONSUMER_HEADER] == "users.order_emails"
    assert dead.headers[topology.ATTEMPT_HEADER] == 2
    assert "LockNotAvailable" in dead.headers[topology.ERROR_HEADER]
    assert mail.outbox == []

    listing = io.StringIO()
    call_command("dead_letters", "list", stdout=listing)
    assert "users.order_emails" in listing.getvalue()
    assert str(event.id) in listing.getvalue()
    assert "OperationalError: canceling statement due to lock timeout" in listing.getvalue()


@pytest.mark.postgres
def test_replay_sends_the_letter_to_its_consumer_only_and_empties_the_dead_letter_queue(
        rabbitmq: str, settings: Any, make_user: Callable[..., UserDTO]) -> None:
    settings.ECOMMERCE_EVENT_RETRY_DELAYS = []
    settings.ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    customer = make_user(email="ann@example.com")
    with transaction.atomic():
        event = record_event("order.delivered", order_data(user_id=customer.id, number="ORD-REPLAY"))
    assert relay_outbox() == 1
    queue = topology.queue_name(ORDER_EMAILS)
    with consumer_held_up(ORDER_EMAILS.consumer, event.id):
        _handle_next(rabbitmq, queue)  # the only attempt fails: dead at once
    letter = DeadLetter.objects.get()
    assert message_count(rabbitmq, topology.dead_letter_queue(ORDER_EMAILS).name) == 1

    output = io.StringIO()
    call_command("dead_letters", "replay", "--consumer", "users.order_emails", stdout=output)

    assert f"replayed {letter.pk}" in output.getvalue()
    assert message_count(rabbitmq, topology.dead_letter_queue(ORDER_EMAILS).name) == 0
    assert message_count(rabbitmq, topology.queue_name(subscriptions.by_consumer("users.stock_low_digest"))) == 0
    assert _handle_next(rabbitmq, queue, wait=5) == {topology.ATTEMPT_HEADER: 1, "x-replay-of": letter.pk}
    assert [m.subject for m in mail.outbox] == ["Your order ORD-REPLAY was delivered"]
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert letter.replays == 1

    again = io.StringIO()
    call_command("dead_letters", "replay", str(letter.pk), stdout=again)
    assert f"skipped {letter.pk}: already replayed" in again.getvalue()
    assert message_count(rabbitmq, queue) == 0


def test_a_message_that_is_not_an_event_is_dead_lettered_at_once(rabbitmq: str) -> None:
    queue = topology.queue_name(ORDER_EMAILS)
    with Connection(rabbitmq) as connection:
        channel = connection.channel()
        topology.declare(channel)
        channel.basic_publish(channel.prepare_message(b"not json {", content_type="application/json",
                                                      properties={"message_id": "junk-1"}),
                              exchange="", routing_key=queue)

    assert _handle_next(rabbitmq, queue, wait=5) == {}

    letter = DeadLetter.objects.get()
    assert letter.event_id is None
    assert letter.raw_body == "not json {"
    assert letter.attempts == 1
    assert "cannot be read as JSON" in letter.error
    assert message_count(rabbitmq, topology.dead_letter_queue(ORDER_EMAILS).name) == 1
    listing = io.StringIO()
    call_command("dead_letters", "replay", str(letter.pk), stdout=listing)
    assert "not an event" in listing.getvalue()
