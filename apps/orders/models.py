"""Orders: the order aggregate (order, its lines, its status history), the checkout attempts that make
``POST /orders`` idempotent, and the order's payments with the provider events that changed them.

Rules guarded here, in the database so no code path can break them: money is never negative, a status is one of the
machine's states, a line holds at least one unit, and one (user, idempotency key) pair can claim at most one
checkout attempt, which is what stops two racing requests with one key from making two orders. Products, users and
addresses belong to other contexts: they are referenced by plain ids and copied (sku, name, price, address) at
checkout, never by foreign key.

Payments: a payment changes status only as its provider's verified events say (or as staff record an offline one),
each provider event id is recorded once (the unique row that makes a redelivered webhook a no-op), a provider's
payment id belongs to one payment, and a refund is owed only by a payment that succeeded.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ecommerce.contracts.orders import CARRIER_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH, OrderStatus, WebhookOutcome
from ecommerce.contracts.orders import PaymentStatus as PaymentStatusValues
from ecommerce.money import MONEY_FIELD

ORDER_STATUS_CHOICES = [(status.value, status.value.capitalize()) for status in OrderStatus]
# The contract's statuses, as model choices.
PaymentStatus = models.TextChoices("PaymentStatus", [(status.name, status.value) for status in PaymentStatusValues])
# A payment staff recorded by hand (paid offline): it has no provider to call.
MANUAL_PROVIDER = "manual"


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True, editable=False)
    user_id = models.PositiveBigIntegerField(db_index=True)
    # The customer's e-mail at checkout, copied like the address: staff find orders by it without asking the users
    # context, and it still says who ordered after the account changed its e-mail or was deleted.
    customer_email = models.EmailField(blank=True)
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
    # Set when the order is shipped: who carries the parcel and the number to follow it by.
    shipping_carrier = models.CharField(max_length=CARRIER_MAX_LENGTH, blank=True)
    tracking_number = models.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, blank=True)

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


class Payment(models.Model):
    """One attempt to collect an order's total through a provider (or an offline payment staff recorded).

    ``provider_payment_id`` is empty until the provider answered the creation; a provider event cannot apply before
    it is set. ``refund_due`` marks money the shop owes back (the order was canceled, or it was already paid): set
    in the transaction that decided it, cleared with the refund, done after commit by the order's follow-ups."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=32)
    provider_payment_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_CONFIRMATION)
    amount = models.DecimalField(**MONEY_FIELD)
    currency = models.CharField(max_length=3)
    client_secret = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    refund_due = models.BooleanField(default=False)
    refund_reason = models.CharField(max_length=255, blank=True)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "-created_at"], name="orders_payment_order_idx")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_payment_id"], name="orders_payment_provider_id_once",
                                    condition=~Q(provider_payment_id="")),
            models.CheckConstraint(condition=Q(amount__gte=0), name="orders_payment_amount_non_negative"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="orders_payment_status_valid"),
            models.CheckConstraint(condition=Q(refund_due=False) | Q(status=PaymentStatus.SUCCEEDED),
                                   name="orders_payment_refund_due_only_when_succeeded"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"


class PaymentAttempt(models.Model):
    """One claimed ``Idempotency-Key`` of a payment creation. Written with its payment in one transaction, so the
    unique (user, key) pair decides a race; ``answer`` is the first answer, kept for replays, and empty while the
    provider's part of the creation is still to be done (a replay finishes it)."""

    user_id = models.PositiveBigIntegerField()
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=128)
    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="attempt")
    answer = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="orders_payattempt_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "idempotency_key"], name="orders_payment_attempt_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.idempotency_key}"


class ProviderEvent(models.Model):
    """A verified webhook event, recorded in the transaction that applied it: the unique (provider, event id) row
    is what makes the same event, delivered again or concurrently, take effect once. Events refused for a
    mismatching amount or currency are kept here for staff with what they claimed."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=16, choices=[(o.value, o.value.capitalize()) for o in WebhookOutcome])
    detail = models.CharField(max_length=255, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    amount = models.DecimalField(**MONEY_FIELD, null=True, blank=True, help_text="What the event claimed.")
    currency = models.CharField(max_length=3, blank=True, help_text="What the event claimed.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="orders_provider_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id} ({self.outcome})"


class VoucherKind(models.TextChoices):
    PERCENT = "percent", "Percent of the subtotal"
    FIXED = "fixed", "Fixed amount off the subtotal"


class Voucher(models.Model):
    """A code a shopper enters for money off their order. ``uses`` counts the orders holding a redemption now (a
    canceled order gives its use back); the database refuses more uses than ``max_uses``, so racing checkouts cannot
    overspend it. Codes are kept upper-case and matched case-insensitively."""

    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=VoucherKind.choices)
    value = models.DecimalField(**MONEY_FIELD, help_text="Percent (0-100) or an amount, as the kind says.")
    min_subtotal = models.DecimalField(**MONEY_FIELD, null=True, blank=True,
                                       help_text="The least subtotal it applies to; empty: any.")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: valid from now.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: valid until used up.")
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Orders in all; empty: no limit.")
    max_uses_per_customer = models.PositiveIntegerField(null=True, blank=True,
                                                        help_text="Orders per customer; empty: no limit.")
    uses = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=VoucherKind.values), name="orders_voucher_kind_valid"),
            models.CheckConstraint(condition=Q(value__gte=0) & (~Q(kind=VoucherKind.PERCENT) | Q(value__lte=100)),
                                   name="orders_voucher_value_in_range"),
            models.CheckConstraint(condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                                   name="orders_voucher_uses_within_limit"),
            models.CheckConstraint(condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True)
                                   | Q(ends_at__gt=models.F("starts_at")), name="orders_voucher_window_ordered"),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherRedemption(models.Model):
    """One order's use of a voucher, written in the order's transaction; deleted when the order is canceled."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="voucher_redemption")
    user_id = models.PositiveBigIntegerField()
    code = models.CharField(max_length=64)
    discount = models.DecimalField(**MONEY_FIELD)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["voucher", "user_id"], name="orders_redemption_customer_idx")]

    def __str__(self) -> str:
        return f"{self.code} on {self.order_id}"
