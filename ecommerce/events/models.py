"""Transactional outbox. An event row is written in the same database transaction as the state change it
describes, so an event exists exactly when its change was committed; a relay publishes rows afterwards and marks
them sent. Consumers de-duplicate by event id, which makes at-least-once delivery safe."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="outbox_unpublished_idx", condition=models.Q(published_at=None))
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def envelope(self) -> dict[str, object]:
        """The event as consumers receive it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "version": self.version,
            "data": self.data,
        }


class ProcessedEvent(models.Model):
    """Idempotent consumers: an event id handled by a consumer is recorded with the consumer's effects."""

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "event_id"], name="events_processed_once")]

    def __str__(self) -> str:
        return f"{self.consumer}:{self.event_id}"
