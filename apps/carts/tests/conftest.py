"""Carts knows products by id only and is told what is available, so its tests need no catalog: any positive id is
a product, and the quantity the catalog would have available is passed in."""

from __future__ import annotations

from apps.carts.models import CartItem

USER = 101
OTHER_USER = 202
PLENTY = 5000


def lines_of(user_id: int) -> dict[int, int]:
    return dict(CartItem.objects.filter(cart__user_id=user_id).values_list("product_id", "quantity"))
