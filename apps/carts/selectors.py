"""Reads of the carts context. A cart's lines are product ids and quantities in the order they were first added;
reading them is one query whatever their number, and reading a user's cart with its lines is one query too (the
cart row joined to its lines). Pricing a cart is not done here (carts never calls the catalog):
the gateway composes a priced cart from these lines and one catalog read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from apps.carts.models import Cart, CartItem


def cart_lines(*, cart: Cart) -> list[tuple[int, int, Decimal | None]]:
    """``(product_id, quantity, added_unit_price)`` of every line, in the order first added."""
    return list(CartItem.objects.filter(cart=cart).order_by("added_at", "id").values_list(
        "product_id", "quantity", "added_unit_price"))


def user_cart_with_lines(*, user_id: int) -> tuple[datetime, str, list[tuple[int, int, Decimal | None]]] | None:
    """A user's cart as its last change time, its voucher code and ``(product_id, quantity, added_unit_price)`` of
    every line in the order first added, in one query; None when the user has no cart yet."""
    rows = list(Cart.objects.filter(user_id=user_id).order_by("items__added_at", "items__id").values_list(
        "updated_at", "voucher_code", "items__product_id", "items__quantity", "items__added_unit_price"))
    if not rows:
        return None
    # An empty cart is one row whose line columns are NULL (the join is an outer join).
    return rows[0][0], rows[0][1], [(product_id, quantity, price) for _, _, product_id, quantity, price in rows
                                    if product_id is not None]
