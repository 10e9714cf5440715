"""Outbox relay: publishes committed events to the broker, then marks them sent.

Delivery is at-least-once: a crash after publishing but before marking re-publishes the event on the next run, and
consumers de-duplicate by event id. Rows are claimed with SKIP LOCKED where the database supports it, so several
relays never publish the same row at the same moment. Without a broker configured, events simply wait in the outbox."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu import Connection, Exchange, Producer

from ecommerce.events.models import OutboxEvent

logger = logging.getLogger(__name__)

EVENTS_EXCHANGE = Exchange("shop.events", type="topic", durable=True)


def relay_outbox(*, batch_size: int = 100) -> int:
    """Publish up to ``batch_size`` pending events in order; returns how many were published."""
    if not settings.CELERY_BROKER_URL:
        return 0
    skip_locked = connection.features.has_select_for_update_skip_locked
    published = 0
    with transaction.atomic():
        pending = list(
            OutboxEvent.objects.filter(published_at=None)
            .order_by("occurred_at", "id")
            .select_for_update(skip_locked=skip_locked)[:batch_size]
        )
        if not pending:
            return 0
        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=5) as broker:
                producer = Producer(broker.channel(), exchange=EVENTS_EXCHANGE, serializer="json")
                producer.maybe_declare(EVENTS_EXCHANGE)
                for event in pending:
                    producer.publish(
                        event.envelope(), routing_key=event.type, delivery_mode=2, message_id=str(event.id),
                        retry=True, retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
                    )
                    event.published_at = timezone.now()
                    event.save(update_fields=["published_at"])
                    published += 1
        except Exception:  # noqa: BLE001 - the broker being down must never lose or block events; retry later
            logger.warning("outbox relay could not publish; %s event(s) stay pending", len(pending) - published)
            OutboxEvent.objects.filter(pk__in=[e.pk for e in pending[published:]]).update(attempts=F("attempts") + 1)
    return published
