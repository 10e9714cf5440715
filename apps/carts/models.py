"""Carts hold only product ids and quantities. Prices, names and stock are never stored here: they are read from the
catalog every time a cart is shown, so a cart always reflects today's prices. No foreign key leaves this context;
users and products are referenced by plain ids."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Lines are shown in the order they were first added.
        ordering = ("added_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("cart", "product_id"), name="carts_item_one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="carts_item_quantity_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class CartCheckout(models.Model):
    """One row per order that has taken lines out of a cart: it makes ``cart_lines_checked_out`` safe to repeat."""

    order_id = models.CharField(max_length=64, unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Order {self.order_id} checked out from the cart of user {self.user_id}"
