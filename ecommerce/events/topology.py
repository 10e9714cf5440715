"""The broker topology of the shop's events, named and declared in one place.

- ``shop.events``: a durable topic exchange; routing key = event type. It is public: an external subscriber binds
  its own queue to it (``order.*``, ``#``, ...).
- Per consumer (see ``subscriptions``), all durable:
  ``shop.events.<consumer>``            bound to the exchange with the consumer's event types; the worker reads it;
  ``shop.events.<consumer>.retry.<N>s`` one per retry delay, no reader: a message waits there N seconds (the queue's
                                        TTL) and then dead-letters back to the consumer's queue through the default
                                        exchange, so a retry reaches this consumer only, never the others;
  ``shop.events.<consumer>.dead``       the messages the consumer gave up on, with the error in their headers.

Every relay and every worker declares the whole topology when it starts, so a queue exists before the first event
it should receive is published; declaring is idempotent. One delay per retry queue (rather than a per-message TTL
in one queue) keeps expiry exact: RabbitMQ only expires messages at the head of a queue.

``ECOMMERCE_BROKER_NAMESPACE`` prefixes every name, so two deployments (or two test runs) can share a vhost.
"""

from __future__ import annotations

from django.conf import settings
from kombu import Exchange, Queue, binding

from ecommerce.events.subscriptions import SUBSCRIPTIONS, Subscription

EXCHANGE_NAME = "shop.events"
# Header names on consumer messages; part of what operators and external tools see.
ATTEMPT_HEADER = "x-attempt"
ERROR_HEADER = "x-error"
CONSUMER_HEADER = "x-consumer"
DEAD_AT_HEADER = "x-dead-at"


def exchange_name() -> str:
    return f"{settings.ECOMMERCE_BROKER_NAMESPACE}{EXCHANGE_NAME}"


def events_exchange() -> Exchange:
    return Exchange(exchange_name(), type="topic", durable=True)


def retry_delays() -> tuple[int, ...]:
    """Seconds before each retry; a message is tried ``len(retry_delays()) + 1`` times before it is dead."""
    return tuple(int(delay) for delay in settings.ECOMMERCE_EVENT_RETRY_DELAYS)


def max_attempts() -> int:
    return len(retry_delays()) + 1


def queue_name(subscription: Subscription) -> str:
    return f"{exchange_name()}.{subscription.consumer}"


def consumer_queue(subscription: Subscription) -> Queue:
    exchange = events_exchange()
    return Queue(
        queue_name(subscription), durable=True,
        bindings=[binding(exchange, routing_key=event_type) for event_type in subscription.event_types],
    )


def retry_queue(subscription: Subscription, delay: int) -> Queue:
    return Queue(
        f"{queue_name(subscription)}.retry.{delay}s", durable=True,
        queue_arguments={
            "x-message-ttl": delay * 1000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue_name(subscription),
        },
    )


def dead_letter_queue(subscription: Subscription) -> Queue:
    return Queue(f"{queue_name(subscription)}.dead", durable=True)


def queues_of(subscription: Subscription) -> list[Queue]:
    return [
        consumer_queue(subscription),
        *(retry_queue(subscription, delay) for delay in sorted(set(retry_delays()))),
        dead_letter_queue(subscription),
    ]


def declare(channel: object) -> None:
    """Declare the exchange and every subscriber's queues and bindings on ``channel``."""
    events_exchange()(channel).declare()
    for subscription in SUBSCRIPTIONS:
        for queue in queues_of(subscription):
            queue(channel).declare()


def delete(channel: object) -> None:
    """Remove the exchange and every queue declared by :func:`declare` (tests clean up their namespace)."""
    for subscription in SUBSCRIPTIONS:
        for queue in queues_of(subscription):
            queue(channel).delete()
    events_exchange()(channel).delete()
