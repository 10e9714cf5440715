"""The cart as the public API shows it: the lines from the carts context, priced with one catalog read.

Carts is a leaf context: it holds product ids and quantities and never asks the catalog anything. So the gateway
composes a cart answer here, in a fixed number of contract calls whatever the number of lines:

- reading a cart: ``carts.cart_get``, then ``products.product_get_many`` for names, today's prices and what is
  available;
- adding a line: ``products.product_get`` (an unknown or inactive product is NotFound), then ``carts.cart_item_add``
  with the quantity available, which carts enforces with the per-line range under its own row lock, then the
  pricing read;
- changing a quantity: the same with ``product_get_many`` (a line of a product no longer sold may only go to 0).

A line whose product left the catalog for good can no longer be bought: it is not shown and not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ecommerce.contracts.carts import CartDTO, carts_service
from ecommerce.contracts.products import ProductDTO, products_service
from ecommerce.errors import NotFound
from ecommerce.money import currency, money_sum, to_money


@dataclass(frozen=True)
class PricedCartLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    available: int


@dataclass(frozen=True)
class PricedCart:
    items: list[PricedCartLine]
    total_quantity: int
    subtotal: Decimal
    currency: str
    updated_at: datetime | None


def available_quantity(product: ProductDTO) -> int:
    """What a shopper may put in a cart now: a product that is no longer sold has nothing available."""
    return product.stock if product.is_active else 0


def cart_priced(*, user_id: int) -> PricedCart:
    return _priced(carts_service.cart_get(user_id=user_id))


def cart_item_add(*, user_id: int, product_id: int, quantity: int) -> PricedCart:
    product = products_service.product_get(product_id=product_id)
    cart = carts_service.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity,
                                       available=available_quantity(product))
    return _priced(cart)


def cart_item_set_quantity(*, user_id: int, product_id: int, quantity: int) -> PricedCart:
    available = 0
    if quantity > 0:
        found = products_service.product_get_many(product_ids=[product_id])
        if not found:
            raise NotFound(f"Product {product_id} was not found.")
        available = available_quantity(found[0])
    cart = carts_service.cart_item_set_quantity(user_id=user_id, product_id=product_id, quantity=quantity,
                                                available=available)
    return _priced(cart)


def cart_item_remove(*, user_id: int, product_id: int) -> PricedCart:
    return _priced(carts_service.cart_item_remove(user_id=user_id, product_id=product_id))


def _priced(cart: CartDTO) -> PricedCart:
    products: dict[int, ProductDTO] = {}
    if cart.items:
        catalog = products_service.product_get_many(product_ids=[line.product_id for line in cart.items])
        products = {product.id: product for product in catalog}
    lines = []
    for line in cart.items:
        product = products.get(line.product_id)
        if product is None:
            continue
        unit_price = to_money(product.effective_price)
        lines.append(PricedCartLine(
            product_id=line.product_id, sku=product.sku, name=product.name, unit_price=unit_price,
            quantity=line.quantity, line_total=to_money(unit_price * line.quantity),
            available=available_quantity(product),
        ))
    return PricedCart(
        items=lines,
        total_quantity=sum(line.quantity for line in lines),
        subtotal=money_sum(line.line_total for line in lines),
        currency=currency(),
        updated_at=cart.updated_at,
    )
