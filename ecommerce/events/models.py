"""Tables of event delivery: the transactional outbox, what each consumer has handled, what it gave up on, and the
lease that keeps one in-process scheduler per database.

- An event row is written in the same database transaction as the state change it describes, so an event exists
  exactly when its change was committed; a relay hands rows on afterwards and only then marks them published.
- A consumer records (consumer, event id) in the same transaction as its effect; the unique row is what makes
  at-least-once delivery safe, however often a message arrives.
- A message a consumer could not handle within its retries is recorded here as a dead letter (and kept in the
  consumer's dead-letter queue), so operators can see it and replay it.
"""

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
    # After a failed attempt the row waits until then (exponential backoff), so a broker outage is not hammered.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

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
        indexes = [models.Index(fields=["processed_at"], name="events_processed_at_idx")]

    def __str__(self) -> str:
        return f"{self.consumer}:{self.event_id}"


class DeadLetter(models.Model):
    """A message a consumer gave up on, with the last error. ``replayed_at`` is set when an operator sent it back
    to the consumer; should it fail again, the row is dead again with the new error."""

    consumer = models.CharField(max_length=100)
    # None when the message could not even be read as an event (its raw body is kept instead).
    event_id = models.UUIDField(null=True, blank=True)
    event_type = models.CharField(max_length=64, blank=True)
    envelope = models.JSONField(null=True, blank=True)
    raw_body = models.TextField(blank=True)
    error = models.TextField()
    attempts = models.PositiveIntegerField()
    dead_at = models.DateTimeField(default=timezone.now)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dead_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], condition=models.Q(event_id__isnull=False),
                                    name="events_dead_letter_once_per_consumer"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer}:{self.event_type or '?'}:{self.event_id or self.pk}"

    @property
    def is_dead(self) -> bool:
        return self.replayed_at is None


class Lease(models.Model):
    """A named lease: whoever holds an unexpired one may do the work it names (one in-process scheduler per
    database, however many server processes share it)."""

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"
