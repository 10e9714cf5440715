"""Notification tables of the users context. Imported by ``apps.users.models`` so Django registers them there.

The rule they guard: one e-mail per (event, recipient). The row is written, already rendered, in the transaction of
the consumer that handled the event, and the unique key makes a second row for the same pair impossible; sending
locks the row and marks it sent, so a task delivered twice sends once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EmailNotification(models.Model):
    class Kind(models.TextChoices):
        ORDER_CREATED = "order_created"
        ORDER_PAID = "order_paid"
        ORDER_SHIPPED = "order_shipped"
        ORDER_DELIVERED = "order_delivered"
        ORDER_CANCELED = "order_canceled"
        PAYMENT_RECEIPT = "payment_receipt"
        PAYMENT_FAILED = "payment_failed"
        PAYMENT_REFUNDED = "payment_refunded"
        STOCK_LOW_DIGEST = "stock_low_digest"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    # The event this mail is about (for a digest: the digest's own id).
    event_id = models.UUIDField()
    recipient = models.EmailField(max_length=254)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient"], name="users_notification_once_per_recipient"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="users_notification_due_idx",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"


class StockLowAlert(models.Model):
    """A ``stock.low`` event waiting for the next digest to catalog staff (``digest_id`` is set once it went)."""

    event_id = models.UUIDField(unique=True)
    product_id = models.BigIntegerField()  # the catalog's id; no foreign key crosses a context
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    available = models.IntegerField()
    threshold = models.IntegerField()
    occurred_at = models.DateTimeField()
    digest_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="users_stock_alert_undigested",
                         condition=models.Q(digest_id=None)),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.available} left"
