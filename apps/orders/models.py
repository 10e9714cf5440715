"""Orders: the order aggregate (order, its lines, its status history) and the checkout attempts that make
``POST /orders`` idempotent.

Rules guarded here, in the database so no code path can break them: money is never negative, a status is one of the
machine's states, a line holds at least one unit, and one (user, idempotency key) pair can claim at most one
checkout attempt, which is what stops two racing requests with one key from making two orders. Products, users and
addresses belong to other contexts: they are referenced by plain ids and copied (sku, name, price, address) at
checkout, never by foreign key.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ecommerce.contracts.orders import OrderStatus
from ecommerce.money import MONEY_FIELD

ORDER_STATUS_CHOICES = [(status.value, status.value.capitalize()) for status in OrderStatus]


class PaymentStatus(models.TextChoices):
    REQUIRES_CONFIRMATION = "requires_confirmation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True, editable=False)
    user_id = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=ORDER_STATUS_CHOICES, default=OrderStatus.PENDING.value)
    subtotal = models.DecimalField(**MONEY_FIELD)
    shipping_cost = models.DecimalField(**MONEY_FIELD)
    discount = models.DecimalField(**MONEY_FIELD)
    total = models.DecimalField(**MONEY_FIELD)
    currency = models.CharField(max_length=3)

    shipping_full_name = models.CharField(max_length=150)
    shipping_street = models.CharField(max_length=255)
    shipping_city = models.CharField(max_length=100)
    shipping_state = models.CharField(max_length=100, blank=True)
    shipping_zip_code = models.CharField(max_length=20)
    shipping_country = models.CharField(max_length=2)
    shipping_phone = models.CharField(max_length=32, blank=True)

    # None until a payment exists: the API shows null, which an empty string would not say.
    payment_status = models.CharField(  # noqa: DJ001
        max_length=32, choices=PaymentStatus.choices, null=True, blank=True
    )
    # How the order was paid when it was not through a payment provider ("manual": staff recorded it by hand).
    payment_method = models.CharField(max_length=32, blank=True)
    # True while work owed to other contexts after a committed change has not been confirmed done: finishing the
    # checkout (confirm the reservation, clear the cart lines) or the stock effect of the current status. Set in the
    # same transaction as the change, cleared once the work succeeded, so a crash in between is resumed by a worker.
    followup_pending = models.BooleanField(default=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="orders_user_newest_idx"),
            models.Index(fields=["status", "created_at"], name="orders_status_created_idx"),
            models.Index(fields=["updated_at"], name="orders_followup_pending_idx",
                         condition=Q(followup_pending=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(shipping_cost__gte=0) & Q(discount__gte=0) & Q(total__gte=0),
                name="orders_order_money_non_negative",
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in OrderStatus]),
                                   name="orders_order_status_valid"),
            models.CheckConstraint(
                condition=Q(payment_status__isnull=True) | Q(payment_status__in=PaymentStatus.values),
                name="orders_order_payment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.PositiveBigIntegerField(db_index=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    unit_price = models.DecimalField(**MONEY_FIELD)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(**MONEY_FIELD)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="orders_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0) & Q(line_total__gte=0),
                                   name="orders_line_money_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """History: one row per status an order entered, written in the transaction that changed it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001 - None: the order was created
    to_status = models.CharField(max_length=16)
    actor_id = models.PositiveBigIntegerField(null=True, blank=True,
                                              help_text="User who made the change; empty for the system.")
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class CheckoutAttempt(models.Model):
    """One claimed ``Idempotency-Key`` of one user. ``order_id`` is chosen when the attempt is claimed (it keys the
    cart claim and the stock reservation); the order with that id exists exactly when the attempt succeeded. The
    first answer is kept, so a replay answers the same: the order as first returned (``order_answer``) or the typed
    error the attempt failed with (``error``)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    user_id = models.PositiveBigIntegerField()
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=128)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    order_id = models.UUIDField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # The order exactly as the first answer returned it, whatever happened to the order since.
    order_answer = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set explicitly (not auto_now): a stale attempt is taken over by a conditional UPDATE on this value.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="orders_attempt_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "idempotency_key"], name="orders_attempt_one_per_key"),
            models.CheckConstraint(condition=Q(state__in=["in_progress", "succeeded", "failed"]),
                                   name="orders_attempt_state_valid"),
            models.CheckConstraint(condition=~Q(state="succeeded") | Q(order_answer__isnull=False),
                                   name="orders_attempt_success_has_answer"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.idempotency_key} ({self.state})"
