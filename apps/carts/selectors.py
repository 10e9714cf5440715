"""Reads of the carts context. A cart's lines are product ids and quantities in the order they were first added;
reading them is one query whatever their number. Pricing a cart is not done here (carts never calls the catalog):
the gateway composes a priced cart from these lines and one catalog read."""

from __future__ import annotations

from decimal import Decimal

from apps.carts.models import Cart, CartItem


def cart_lines(*, cart: Cart) -> list[tuple[int, int, Decimal | None]]:
    """``(product_id, quantity, added_unit_price)`` of every line, in the order first added."""
    return list(CartItem.objects.filter(cart=cart).order_by("added_at", "id").values_list(
        "product_id", "quantity", "added_unit_price"))
