"""Writes of the carts context.

Every catalog read (a contract call) happens before a transaction opens, never inside one: a remote call cannot join
this database's transaction. The write itself is short and locks the cart row first, so concurrent changes to one
cart are applied one after the other and a stock check cannot be overtaken by a parallel add."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from apps.carts.models import Cart, CartCheckout, CartItem
from apps.carts.selectors import product_available_quantity
from ecommerce.contracts.carts import CartLineQuantity
from ecommerce.contracts.products import ProductDTO, products_service
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed

# No shopper needs more of one product than this in one cart; larger numbers are typos or abuse.
MAX_LINE_QUANTITY = 1000
# Ids beyond a 64-bit integer cannot exist; refusing them early keeps them away from the database.
_MAX_ID = 2**63 - 1


def _is_possible_id(product_id: int) -> bool:
    return 1 <= product_id <= _MAX_ID


def _product_not_found(product_id: int) -> NotFound:
    return NotFound(f"Product {product_id} was not found.")


def _product_in_catalog(product_id: int) -> ProductDTO | None:
    """The product whatever its state, or None if the catalog does not know it. A contract call: never in a
    transaction."""
    if not _is_possible_id(product_id):
        return None
    found = products_service.product_get_many(product_ids=[product_id])
    return next((product for product in found if product.id == product_id), None)


def _validate_quantity(quantity: int, *, minimum: int) -> None:
    if quantity < minimum:
        raise ValidationFailed(errors={"quantity": [f"Ensure this value is greater than or equal to {minimum}."]})
    if quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed(
            errors={"quantity": [f"Ensure this value is less than or equal to {MAX_LINE_QUANTITY}."]}
        )


def _ensure_available(*, product: ProductDTO, requested: int) -> None:
    available = product_available_quantity(product)
    if requested > available:
        raise InsufficientStock(
            f"Only {available} of product {product.id} available.",
            lines=[{"product_id": product.id, "requested": requested, "available": available}],
        )


def _touch(cart: Cart) -> None:
    cart.save(update_fields=["updated_at"])


def cart_get_or_create(*, user_id: int) -> Cart:
    """One cart per user, made on first use. Concurrent first uses end with the same row (get_or_create retries the
    read when the unique user_id makes a parallel insert fail)."""
    cart, _ = Cart.objects.get_or_create(user_id=user_id)
    return cart


def cart_item_add(*, user_id: int, product_id: int, quantity: int) -> Cart:
    """Add ``quantity`` of a product, on top of what the cart already holds. All or nothing."""
    _validate_quantity(quantity, minimum=1)
    product = _product_in_catalog(product_id)
    if product is None or not product.is_active:
        raise _product_not_found(product_id)

    with transaction.atomic():
        cart, _ = Cart.objects.select_for_update().get_or_create(user_id=user_id)
        line = CartItem.objects.filter(cart=cart, product_id=product_id).first()
        requested = quantity + (line.quantity if line else 0)
        _validate_quantity(requested, minimum=1)
        _ensure_available(product=product, requested=requested)
        if line is None:
            CartItem.objects.create(cart=cart, product_id=product_id, quantity=requested)
        else:
            line.quantity = requested
            line.save(update_fields=["quantity"])
        _touch(cart)
    return cart


def cart_item_set_quantity(*, user_id: int, product_id: int, quantity: int) -> Cart:
    """Set a line's quantity; 0 removes the line."""
    _validate_quantity(quantity, minimum=0)
    if quantity == 0:
        return cart_item_remove(user_id=user_id, product_id=product_id)
    # Checked before asking the catalog, so a line that is not there answers NotFound without a remote call.
    if not _is_possible_id(product_id) or not CartItem.objects.filter(
        cart__user_id=user_id, product_id=product_id
    ).exists():
        raise NotFound(f"Product {product_id} is not in the cart.")
    product = _product_in_catalog(product_id)
    if product is None:
        raise _product_not_found(product_id)

    with transaction.atomic():
        cart = Cart.objects.select_for_update().get(user_id=user_id)
        line = CartItem.objects.filter(cart=cart, product_id=product_id).first()
        if line is None:
            raise NotFound(f"Product {product_id} is not in the cart.")
        _ensure_available(product=product, requested=quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        _touch(cart)
    return cart


def cart_item_remove(*, user_id: int, product_id: int) -> Cart:
    with transaction.atomic():
        cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
        deleted = 0
        if cart is not None and _is_possible_id(product_id):
            deleted, _ = CartItem.objects.filter(cart=cart, product_id=product_id).delete()
        if not deleted:
            raise NotFound(f"Product {product_id} is not in the cart.")
        _touch(cart)
    return cart


def cart_clear(*, user_id: int) -> None:
    """Empty the cart. Clearing an empty (or never used) cart is not an error and writes nothing."""
    with transaction.atomic():
        cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
        if cart is None:
            return
        deleted, _ = CartItem.objects.filter(cart=cart).delete()
        if deleted:
            _touch(cart)


def _quantities_by_product(lines: Iterable[CartLineQuantity]) -> dict[int, int]:
    quantities: dict[int, int] = defaultdict(int)
    for line in lines:
        quantities[line.product_id] += line.quantity
    return quantities


def cart_lines_checked_out(*, user_id: int, order_id: str, lines: Iterable[CartLineQuantity]) -> None:
    """Take what an order bought out of the cart: each line loses at most the ordered quantity, so whatever the
    shopper added while the order was being placed stays. Recorded per order id, so a repeated call (a retried
    saga step) changes nothing."""
    ordered = _quantities_by_product(lines)
    with transaction.atomic():
        _, first_time = CartCheckout.objects.get_or_create(order_id=str(order_id), defaults={"user_id": user_id})
        if not first_time:
            return
        cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
        if cart is None or not ordered:
            return
        changed = False
        for item in CartItem.objects.filter(cart=cart, product_id__in=list(ordered)):
            remaining = item.quantity - ordered[item.product_id]
            if remaining <= 0:
                item.delete()
            else:
                item.quantity = remaining
                item.save(update_fields=["quantity"])
            changed = True
        if changed:
            _touch(cart)
