"""Writing events. ``record_event`` and ``record_events`` must be called inside the transaction that makes the change
(they refuse otherwise), which is what guarantees that no committed change lacks its event and no event describes a
rolled-back change."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from ecommerce.events.models import OutboxEvent, ProcessedEvent

EVENT_TYPES = frozenset({
    "order.created", "order.paid", "order.canceled", "order.shipped", "order.delivered",
    "payment.succeeded", "payment.failed", "payment.refunded", "stock.low",
})


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals become strings and UUIDs/datetimes ISO text, as everywhere on the wire.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _checked(event_type: str, using: str) -> None:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("events must be recorded inside the transaction that makes the change")


def _wake_the_scheduler_on_commit(using: str) -> None:
    if not settings.CELERY_BROKER_URL:
        # Without a broker this process's scheduler delivers the event; tell it not to wait for its next tick.
        from ecommerce.events.scheduler import wake

        transaction.on_commit(wake, using=using)


def record_event(event_type: str, data: dict[str, Any], *, version: int = 1, using: str = "default") -> OutboxEvent:
    _checked(event_type, using)
    event = OutboxEvent.objects.using(using).create(type=event_type, version=version, data=_json_ready(data))
    _wake_the_scheduler_on_commit(using)
    return event


def record_events(events: Iterable[tuple[str, dict[str, Any]]], *, version: int = 1,
                  using: str = "default") -> list[OutboxEvent]:
    """Several ``(type, data)`` events of one change in one INSERT, however many there are."""
    rows = []
    for event_type, data in events:
        _checked(event_type, using)
        rows.append(OutboxEvent(type=event_type, version=version, data=_json_ready(data)))
    if not rows:
        return []
    written = OutboxEvent.objects.using(using).bulk_create(rows)
    _wake_the_scheduler_on_commit(using)
    return written


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_age_seconds: float | None


def outbox_backlog() -> Backlog:
    """How many events wait to be published, and how long the oldest has waited."""
    summary = OutboxEvent.objects.filter(published_at=None).aggregate(pending=Count("id"), oldest=Min("occurred_at"))
    oldest = summary["oldest"]
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest else None
    return Backlog(pending=summary["pending"], oldest_age_seconds=age)


def events_purge_old(*, now: Any = None) -> tuple[int, int]:
    """Forget published events and consumers' processed-event rows older than ECOMMERCE_EVENTS_KEEP_DAYS. Redelivery
    happens within minutes (retries) or when an operator replays a dead letter, which was by definition never
    processed; a month of history is ample for both and for inspection."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ECOMMERCE_EVENTS_KEEP_DAYS)
    published, _ = OutboxEvent.objects.filter(published_at__lt=cutoff).delete()
    processed, _ = ProcessedEvent.objects.filter(processed_at__lt=cutoff).delete()
    return published, processed
