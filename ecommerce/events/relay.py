"""Outbox relay: hands committed events on, and marks a row published only once they arrived.

With a broker, "arrived" means RabbitMQ confirmed the message and did not return it as unroutable (see ``broker``);
the whole topology is declared first, so every internal subscriber's queue exists. A row that could not be
published stays pending, its attempts counted, and waits with exponential backoff (capped by
``ECOMMERCE_OUTBOX_RETRY_MAX_SECONDS``) before it is tried again; the broker being down therefore never loses an
event, never blocks the request that wrote it, and is not hammered while it is down.

Without a broker (``make run``), the relay dispatches events to this process's own consumers instead (``dispatch``).

Delivery is at-least-once: a crash after the broker confirmed a message but before its row is marked publishes it
again, and consumers de-duplicate by event id. Rows are claimed with ``SKIP LOCKED`` where the database supports
it, so relays running side by side publish disjoint batches. No order is promised between events.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ecommerce.events import topology
from ecommerce.events.broker import ConfirmedPublisher, Unroutable, confirmed_publisher
from ecommerce.events.handling import error_summary
from ecommerce.events.models import OutboxEvent

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# One run drains a backlog for at most this long, then leaves the rest to the next run.
RUN_BUDGET_SECONDS = 20.0


def pending_due(now: datetime) -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), published_at=None,
    ).order_by("occurred_at", "id")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** min(attempts, 20), settings.ECOMMERCE_OUTBOX_RETRY_MAX_SECONDS))


def charge_attempt(rows: list[OutboxEvent] | list[object], error: str, *, now: datetime) -> None:
    """Count a failed attempt on each row and make it wait before the next one."""
    by_attempts: dict[int, list[object]] = {}
    for row in rows:
        by_attempts.setdefault(row.attempts + 1, []).append(row.pk)  # type: ignore[attr-defined]
    for attempts, pks in by_attempts.items():
        OutboxEvent.objects.filter(pk__in=pks).update(
            attempts=F("attempts") + 1, next_attempt_at=now + backoff(attempts), last_error=error[:500],
        )


def relay_outbox(*, batch_size: int = BATCH_SIZE, budget_seconds: float = RUN_BUDGET_SECONDS) -> int:
    """Publish (or, without a broker, dispatch) pending events; returns how many were handed on."""
    if not settings.CELERY_BROKER_URL:
        from ecommerce.events.dispatch import dispatch_pending

        return dispatch_pending(batch_size=batch_size, budget_seconds=budget_seconds)
    return _publish_pending(batch_size=batch_size, budget_seconds=budget_seconds)


def _publish_pending(*, batch_size: int, budget_seconds: float) -> int:
    deadline = time.monotonic() + budget_seconds
    published = 0
    try:
        with confirmed_publisher() as publisher:
            topology.declare(publisher.channel)
            while time.monotonic() < deadline:
                outcome = _publish_batch(publisher, batch_size=batch_size)
                published += outcome.published
                if outcome.broker_error:
                    logger.warning("outbox relay: the broker failed mid-batch (%s); %s event(s) stay pending",
                                   outcome.broker_error, outcome.failed)
                    break
                if outcome.claimed < batch_size:
                    break
    except Exception as error:  # noqa: BLE001 - the broker being down must never lose or block events
        _charge_unreachable(batch_size=batch_size, error=error)
    return published


@dataclass
class _BatchOutcome:
    claimed: int = 0
    published: int = 0
    failed: int = 0
    broker_error: str = ""
    unroutable: list[str] = field(default_factory=list)


def _publish_batch(publisher: ConfirmedPublisher, *, batch_size: int) -> _BatchOutcome:
    outcome = _BatchOutcome()
    exchange = topology.events_exchange()
    with transaction.atomic():
        now = timezone.now()
        rows = list(pending_due(now).select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked)[:batch_size])
        outcome.claimed = len(rows)
        confirmed: list[object] = []
        failed: dict[str, list[OutboxEvent]] = {}
        for row in rows:
            if outcome.broker_error:
                failed.setdefault(outcome.broker_error, []).append(row)
                continue
            try:
                publisher.publish(
                    row.envelope(), exchange=exchange, routing_key=row.type, message_id=str(row.id),
                    serializer="json", type=row.type, timestamp=int(row.occurred_at.timestamp()),
                )
            except Unroutable as error:
                outcome.unroutable.append(row.type)
                failed.setdefault(error_summary(error), []).append(row)
            except Exception as error:  # noqa: BLE001 - a nack, a timeout or a lost connection: try again later
                outcome.broker_error = error_summary(error)
                failed.setdefault(outcome.broker_error, []).append(row)
            else:
                confirmed.append(row.pk)
        if confirmed:
            OutboxEvent.objects.filter(pk__in=confirmed).update(published_at=timezone.now(), last_error="")
        for error, failed_rows in failed.items():
            charge_attempt(failed_rows, error, now=now)
        outcome.published = len(confirmed)
        outcome.failed = sum(len(rows) for rows in failed.values())
    if outcome.unroutable:
        logger.warning("outbox relay: no queue is bound for %s; those events stay pending",
                       ", ".join(sorted(set(outcome.unroutable))))
    return outcome


def _charge_unreachable(*, batch_size: int, error: Exception) -> None:
    """The broker could not be reached at all: the batch this run would have published waits and is retried."""
    summary = error_summary(error)
    now = timezone.now()
    with transaction.atomic():
        rows = list(pending_due(now).select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked)[:batch_size])
        charge_attempt(rows, summary, now=now)
    logger.warning("outbox relay could not reach the broker (%s); %s event(s) stay pending", summary, len(rows))
