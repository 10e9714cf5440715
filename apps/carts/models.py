"""Carts hold only product ids and quantities. Prices, names and stock are never stored here: whoever shows a cart
reads them from the catalog every time, so a cart always reflects today's prices. No foreign key leaves this
context; users, products and orders are referenced by plain ids.

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


class Cart(models.Model):
    user_id = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"Cart of user {self.user_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product_id = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    # Not auto_now_add: a line given back by a failed checkout keeps its place in the cart.
    added_at = models.DateTimeField(default=timezone.now)

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

    class Meta:
        ordering = ("product_id",)
        constraints = [
            models.UniqueConstraint(fields=("claim", "product_id"), name="carts_claim_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="carts_claim_line_quantity_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
