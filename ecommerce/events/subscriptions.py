"""Who consumes which events: the one table of the shop's internal subscribers.

The rule it guards: every consumer is declared here, by name, with the role that owns its effect and the event
types it takes, and its handler is named by dotted path (loaded with ``import_string``), never imported, so the
kernel stays free of the apps while every relay can still declare every subscriber's queue before it publishes.
A role's worker runs only the consumers its role owns (the monolith's worker runs them all); a consumer writes only
its own role's tables, in the same transaction as the row that makes it idempotent.

A handler is ``def handler(event: Event) -> None``; it runs inside the transaction that records
(consumer, event id), must not call a contract (rule 4: no contract call inside ``transaction.atomic()``), and
schedules any side effect (an e-mail, a task) with ``transaction.on_commit``. It raises
:class:`~ecommerce.events.handling.MalformedEvent` for an event no retry could ever handle; any other exception is
retried with backoff and finally dead-lettered.

Every event type the shop publishes (``outbox.EVENT_TYPES``) is taken by at least one consumer below, and a test
holds that. It is a deliberate choice, not an accident of the list: the relay publishes as ``mandatory``, so an
event no queue is bound for comes back and stays pending (the contract: an event is never lost, even while no
consumer is bound yet), and without a broker such an event waits in the outbox too. An event type nobody in the
shop takes would therefore wait for ever; it gets a consumer, or it is not published. External subscribers bind
their own queues to ``shop.events`` and receive every event besides, whether or not the shop consumes it too.

To add a consumer: write the handler in the owning app, add a
``Subscription`` below naming it, and its queue, retry queues and dead-letter queue exist from the next start of
any relay or worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from ecommerce import deployment

if TYPE_CHECKING:
    from ecommerce.events.handling import Event

@dataclass(frozen=True)
class Subscription:
    consumer: str
    role: str
    event_types: tuple[str, ...]
    handler_path: str

    def handler(self) -> Callable[[Event], None]:
        return _load(self.handler_path)

    def takes(self, event_type: str) -> bool:
        return event_type in self.event_types


@cache
def _load(path: str) -> Callable[[Event], None]:
    return import_string(path)


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        consumer="users.order_emails",
        role="users",
        event_types=("order.created", "order.paid", "order.shipped", "order.delivered", "order.canceled"),
        handler_path="apps.users.notifications.consumers.order_email_prepare",
    ),
    Subscription(
        consumer="users.payment_emails",
        role="users",
        event_types=("payment.succeeded", "payment.failed", "payment.refunded"),
        handler_path="apps.users.notifications.consumers.payment_email_prepare",
    ),
    Subscription(
        consumer="products.stock_commit",
        role="products",
        event_types=("order.shipped", "order.delivered"),
        handler_path="apps.products.consumers.stock_commit_on_shipment",
    ),
    Subscription(
        consumer="users.stock_low_digest",
        role="users",
        event_types=("stock.low",),
        handler_path="apps.users.notifications.consumers.stock_low_collect",
    ),
)


def by_consumer(name: str) -> Subscription:
    for subscription in SUBSCRIPTIONS:
        if subscription.consumer == name:
            return subscription
    raise LookupError(f"No consumer named {name!r}; known: {', '.join(s.consumer for s in SUBSCRIPTIONS)}")


def local() -> tuple[Subscription, ...]:
    """The consumers this process runs: all of them in the monolith, its own role's in a split deployment."""
    if not deployment.is_split():
        return SUBSCRIPTIONS
    role = deployment.process_role()
    return tuple(s for s in SUBSCRIPTIONS if s.role == role)


def subscribers_of(event_type: str) -> tuple[Subscription, ...]:
    return tuple(s for s in SUBSCRIPTIONS if s.takes(event_type))
