"""Without a broker (``make run``): committed events go straight to this process's own consumers.

The same handlers run with the same idempotency (``handling``) and the same retry budget as behind a broker: a
failing consumer is tried again after each of ``ECOMMERCE_EVENT_RETRY_DELAYS`` and then recorded as a dead letter,
which ``manage.py dead_letters replay`` sends back to it. A row is marked published once every local subscriber
handled it or gave up on it; consumers that already succeeded are skipped when a row is retried.

In a split deployment without a broker, an event another role consumes cannot reach it: such events wait in the
outbox (and show in the readiness backlog) until a broker is configured; so would an event no consumer takes at all,
as behind a broker (``subscriptions`` says why every type has one). The in-process scheduler (``scheduler``)
runs this, through the relay task, every second and as soon as a transaction that wrote an event commits.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.utils import timezone

from ecommerce.events import subscriptions, topology
from ecommerce.events.handling import MalformedEvent, dead_letter_record, error_summary, error_text, event_handle
from ecommerce.events.models import DeadLetter, OutboxEvent
from ecommerce.events.outbox import EVENT_TYPES
from ecommerce.events.relay import pending_due
from ecommerce.events.subscriptions import Subscription

logger = logging.getLogger(__name__)


def types_waiting_for_a_broker() -> set[str]:
    """Event types that some consumer outside this process takes, or that no consumer takes at all."""
    local = {subscription.consumer for subscription in subscriptions.local()}
    taken = {event_type for subscription in subscriptions.SUBSCRIPTIONS for event_type in subscription.event_types}
    return {event_type for subscription in subscriptions.SUBSCRIPTIONS if subscription.consumer not in local
            for event_type in subscription.event_types} | (EVENT_TYPES - taken)


def dispatch_pending(*, batch_size: int, budget_seconds: float) -> int:
    """Hand pending events to the local consumers; returns how many rows are done with."""
    local = subscriptions.local()
    waiting = types_waiting_for_a_broker()
    deadline = time.monotonic() + budget_seconds
    done = 0
    while time.monotonic() < deadline:
        rows = list(pending_due(timezone.now()).exclude(type__in=waiting)[:batch_size])
        for row in rows:
            done += _dispatch(row, [s for s in local if s.takes(row.type)])
        if len(rows) < batch_size:
            break
    return done


def _dispatch(row: OutboxEvent, subscribers: list[Subscription]) -> int:
    envelope = row.envelope()
    attempts = row.attempts + 1
    given_up = set(DeadLetter.objects.filter(event_id=row.id, replayed_at=None,
                                             consumer__in=[s.consumer for s in subscribers])
                   .values_list("consumer", flat=True))
    failures: dict[Subscription, BaseException] = {}
    for subscription in subscribers:
        if subscription.consumer in given_up:
            continue
        try:
            event_handle(subscription=subscription, envelope=envelope)
        except MalformedEvent as error:
            dead_letter_record(subscription=subscription, envelope=envelope, error=error_text(error),
                               attempts=attempts)
        except Exception as error:  # noqa: BLE001 - any failure is retried, then dead-lettered with its error
            logger.warning("consumer %s failed on event %s (attempt %s): %s", subscription.consumer, row.id,
                           attempts, error_summary(error))
            failures[subscription] = error
    now = timezone.now()
    if failures and attempts < topology.max_attempts():
        _retry_later(row, failures, attempts=attempts, now=now)
        return 0
    for subscription, error in failures.items():
        dead_letter_record(subscription=subscription, envelope=envelope, error=error_text(error), attempts=attempts)
    OutboxEvent.objects.filter(pk=row.pk).update(published_at=now, attempts=attempts if failures else row.attempts)
    return 1


def _retry_later(row: OutboxEvent, failures: dict[Subscription, BaseException], *, attempts: int,
                 now: datetime) -> None:
    delay = topology.retry_delays()[attempts - 1]
    summary = "; ".join(f"{s.consumer}: {error_summary(e)}" for s, e in failures.items())
    OutboxEvent.objects.filter(pk=row.pk).update(
        attempts=attempts, next_attempt_at=now + timedelta(seconds=delay), last_error=summary[:500],
    )
