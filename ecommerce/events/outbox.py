"""Writing events. ``record_event`` and ``record_events`` must be called inside the transaction that makes the change
(they refuse otherwise), which is what guarantees that no committed change lacks its event and no event describes a
rolled-back change."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from ecommerce.events.models import OutboxEvent

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


def record_event(event_type: str, data: dict[str, Any], *, version: int = 1, using: str = "default") -> OutboxEvent:
    _checked(event_type, using)
    return OutboxEvent.objects.using(using).create(type=event_type, version=version, data=_json_ready(data))


def record_events(events: Iterable[tuple[str, dict[str, Any]]], *, version: int = 1,
                  using: str = "default") -> list[OutboxEvent]:
    """Several ``(type, data)`` events of one change in one INSERT, however many there are."""
    rows = []
    for event_type, data in events:
        _checked(event_type, using)
        rows.append(OutboxEvent(type=event_type, version=version, data=_json_ready(data)))
    return OutboxEvent.objects.using(using).bulk_create(rows) if rows else []
