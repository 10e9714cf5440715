"""Carts hold product ids and quantities. Names and stock are never stored here, and neither is the price a cart is
charged at: whoever shows a cart reads today's prices from the catalog every time. A line keeps only the unit price
the shopper saw when adding it (``added_unit_price``), so the shop can say which prices changed since. No foreign key
leaves this context; users, products and orders are referenced by plain ids.

A cart belongs to a user or, before the shopper signs in, to a guest: a guest cart is known by a random token, of
which only a hash is stored (a leaked table holds no usable token), and it disappears once merged into the user's
cart or once it has not changed for ``ECOMMERCE_GUEST_CART_TTL_HOURS``. The applied voucher is kept as its code only:
whether it still applies, and how much it takes off, is the orders context's answer.

A checkout claims a cart by moving its lines into a ``CartClaim`` keyed by the order id, in one transaction under
the cart's row lock: the cart is empty at once, so a second checkout of it finds nothing to take, and whatever the
shopper adds meanwhile stays separate. The database holds the rules no code path may break: one cart per user, one
line per product in a cart and in a claim, at least one unit per line, one claim per order, and a claim is settled
(completed or released) exactly when it has a settlement time.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ecommerce.money import MONEY_FIELD

VOUCHER_CODE_MAX_LENGTH = 64


class Cart(models.Model):
    # Exactly one of the two is set: a user's cart, or a guest's (by the SHA-256 of its token).
    user_id = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    guest_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    voucher_code = models.CharField(max_length=VOUCHER_CODE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(fields=["updated_at"], name="carts_guest_updated_idx",
                         condition=Q(guest_token_hash__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user_id__isnull=False, guest_token_hash__isnull=True)
                | Q(user_id__isnull=True, guest_token_hash__isnull=False),
                name="carts_cart_user_or_guest",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart of user {self.user_id}" if self.user_id is not None else f"Guest cart {self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product_id = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    # Not auto_now_add: a line given back by a failed checkout keeps its place in the cart.
    added_at = models.DateTimeField(default=timezone.now)
    # The unit price shown when the line was first added (None for lines older than this column); never charged.
    added_unit_price = models.DecimalField(**MONEY_FIELD, null=True, blank=True)

    class Meta:
        # Lines are shown in the order they were first added.
        ordering = ("added_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("cart", "product_id"), name="carts_item_one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="carts_item_quantity_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class ClaimStatus(models.TextChoices):
    OPEN = "open", "Open: the checkout is running"
    COMPLETED = "completed", "Completed: the order was made"
    RELEASED = "released", "Released: the lines went back to the cart"


class CartClaim(models.Model):
    """The lines one checkout took out of a cart. ``order_id`` belongs to the orders context (a plain UUID)."""

    order_id = models.UUIDField(unique=True)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="claims")
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    voucher_code = models.CharField(max_length=VOUCHER_CODE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["created_at"], name="carts_claim_open_idx", condition=Q(status="open")),
            models.Index(fields=["settled_at"], name="carts_claim_settled_idx", condition=~Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ClaimStatus.values), name="carts_claim_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ClaimStatus.OPEN, settled_at__isnull=True)
                | (~Q(status=ClaimStatus.OPEN) & Q(settled_at__isnull=False)),
                name="carts_claim_settled_when_not_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim of cart {self.cart_id} for order {self.order_id} ({self.status})"


class CartClaimLine(models.Model):
    """A cart line while a checkout holds it; deleted once the claim is settled (the order or the cart has it)."""

    claim = models.ForeignKey(CartClaim, on_delete=models.CASCADE, related_name="lines")
    product_id = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField()
    added_unit_price = models.DecimalField(**MONEY_FIELD, null=True, blank=True)

    class Meta:
        ordering = ("product_id",)
        constraints = [
            models.UniqueConstraint(fields=("claim", "product_id"), name="carts_claim_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="carts_claim_line_quantity_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
