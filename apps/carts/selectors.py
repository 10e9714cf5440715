"""Reads of the carts context. A cart is priced when it is read: names, prices and stock come from the catalog in
one ``product_get_many`` call for all lines (never one call per line), so a cart never shows a stale price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.carts.models import Cart, CartItem
from ecommerce.contracts.products import ProductDTO, products_service
from ecommerce.money import money_sum, to_money


@dataclass(frozen=True)
class PricedLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    available: int


@dataclass(frozen=True)
class PricedCart:
    user_id: int
    lines: list[PricedLine]
    total_quantity: int
    subtotal: Decimal
    updated_at: datetime | None


def product_available_quantity(product: ProductDTO) -> int:
    """What a shopper may put in a cart now: a product that is no longer sold has nothing available."""
    return max(product.stock, 0) if product.is_active else 0


def cart_find(*, user_id: int) -> Cart | None:
    return Cart.objects.filter(user_id=user_id).first()


def cart_item_find(*, user_id: int, product_id: int) -> CartItem | None:
    return CartItem.objects.filter(cart__user_id=user_id, product_id=product_id).first()


def cart_priced(*, cart: Cart) -> PricedCart:
    items = list(CartItem.objects.filter(cart=cart).order_by("added_at", "id").only("product_id", "quantity"))
    products: dict[int, ProductDTO] = {}
    if items:
        catalog = products_service.product_get_many(product_ids=[item.product_id for item in items])
        products = {product.id: product for product in catalog}

    lines: list[PricedLine] = []
    for item in items:
        product = products.get(item.product_id)
        if product is None:
            # The product left the catalog for good: the line can no longer be bought, so it is not shown.
            continue
        unit_price = to_money(product.effective_price)
        lines.append(
            PricedLine(
                product_id=item.product_id,
                sku=product.sku,
                name=product.name,
                unit_price=unit_price,
                quantity=item.quantity,
                line_total=to_money(unit_price * item.quantity),
                available=product_available_quantity(product),
            )
        )
    return PricedCart(
        user_id=cart.user_id,
        lines=lines,
        total_quantity=sum(line.quantity for line in lines),
        subtotal=money_sum(line.line_total for line in lines),
        updated_at=cart.updated_at,
    )
