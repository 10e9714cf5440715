"""The processor's own records. Amounts are in the currency's minor unit and currencies lower case, as processors
count them; nothing here points at a table of the shop.

A confirmation or a refund and the webhook event announcing it are written in one transaction, so an event exists
exactly when its change does and is delivered until the shop acknowledges it."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_intent_id() -> str:
    return _new_id("pi_sbx")


def new_refund_id() -> str:
    return _new_id("re_sbx")


def new_event_id() -> str:
    return _new_id("evt_sbx")


class Intent(models.Model):
    """A payment the shop asked the processor to collect; the shopper confirms it with a card."""

    class Status(models.TextChoices):
        REQUIRES_CONFIRMATION = "requires_confirmation"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"

    id = models.CharField(primary_key=True, max_length=40, default=new_intent_id, editable=False)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.REQUIRES_CONFIRMATION)
    client_secret = models.CharField(max_length=80)
    metadata = models.JSONField(default=dict)
    # A repeated creation with the same key returns this intent instead of making another.
    idempotency_key = models.CharField(max_length=255, unique=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    decline_code = models.CharField(max_length=64, blank=True)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_refunded__lte=models.F("amount")),
                                   name="sandbox_intent_refund_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class Refund(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_refund_id, editable=False)
    intent = models.ForeignKey(Intent, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    idempotency_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} of {self.intent_id}"


class WebhookEvent(models.Model):
    """An event the processor owes the shop, and how its delivery goes: each attempt is signed afresh; a failed one
    is tried again at ``next_attempt_at``, later and later, until acknowledged or too old to be worth sending."""

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last try.")
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="sandbox_event_due_idx",
                         condition=Q(delivered_at=None, abandoned_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
