"""Writes of a cart's lines: add, set a quantity, remove, clear.

Carts never asks the catalog anything: the caller passes the quantity the catalog has ``available`` and this module
enforces it, with the per-line range, under the cart's row lock, so concurrent changes to one cart are applied one
after the other and a check cannot be overtaken by a parallel add. Every write names its cart by owner (a user or a
guest token, see ``owners``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.carts.models import Cart, CartItem
from apps.carts.services.owners import CartOwner
from ecommerce.contracts.carts import MAX_LINE_QUANTITY
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed

# Ids beyond a 64-bit integer cannot exist; refusing them early keeps them away from the database.
_MAX_ID = 2**63 - 1


def _is_possible_id(product_id: int) -> bool:
    return 1 <= product_id <= _MAX_ID


def _not_in_cart(product_id: int) -> NotFound:
    return NotFound(f"Product {product_id} is not in the cart.")


def _validate_quantity(quantity: int, *, minimum: int) -> None:
    if quantity < minimum:
        raise ValidationFailed(errors={"quantity": [f"Ensure this value is greater than or equal to {minimum}."]})
    if quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed(
            errors={"quantity": [f"Ensure this value is less than or equal to {MAX_LINE_QUANTITY}."]}
        )


def _ensure_available(*, product_id: int, requested: int, available: int) -> None:
    if requested > available:
        raise InsufficientStock(
            f"Only {available} of product {product_id} available.",
            lines=[{"product_id": product_id, "requested": requested, "available": available}],
        )


def cart_touch(cart: Cart) -> None:
    cart.save(update_fields=["updated_at"])


def cart_get_or_create(*, user_id: int | None = None, guest_token: str | None = None) -> Cart:
    """A user's cart is made on first use; a guest's must exist (else NotFound)."""
    return CartOwner(user_id=user_id, guest_token=guest_token).get_or_create()


def cart_item_add(*, user_id: int | None = None, guest_token: str | None = None, product_id: int, quantity: int,
                  available: int, unit_price: Decimal | None = None) -> Cart:
    """Add ``quantity`` of a product, on top of what the cart already holds. All or nothing. A new line keeps
    ``unit_price`` as the price the shopper saw; a line added to keeps the one seen first."""
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    _validate_quantity(quantity, minimum=1)
    if not _is_possible_id(product_id):
        raise NotFound(f"Product {product_id} was not found.")
    with transaction.atomic():
        cart = owner.locked(create=True)
        line = CartItem.objects.filter(cart=cart, product_id=product_id).first()
        requested = quantity + (line.quantity if line else 0)
        _validate_quantity(requested, minimum=1)
        _ensure_available(product_id=product_id, requested=requested, available=available)
        if line is None:
            CartItem.objects.create(cart=cart, product_id=product_id, quantity=requested,
                                    added_unit_price=unit_price)
        else:
            line.quantity = requested
            line.save(update_fields=["quantity"])
        cart_touch(cart)
    return cart


def cart_item_set_quantity(*, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                           quantity: int, available: int) -> Cart:
    """Set a line's quantity; 0 removes the line."""
    _validate_quantity(quantity, minimum=0)
    if quantity == 0:
        return cart_item_remove(user_id=user_id, guest_token=guest_token, product_id=product_id)
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    if not _is_possible_id(product_id):
        raise _not_in_cart(product_id)
    with transaction.atomic():
        cart = owner.locked(create=False)
        line = CartItem.objects.filter(cart=cart, product_id=product_id).first() if cart else None
        if line is None:
            raise _not_in_cart(product_id)
        _ensure_available(product_id=product_id, requested=quantity, available=available)
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        cart_touch(cart)
    return cart


def cart_item_remove(*, user_id: int | None = None, guest_token: str | None = None, product_id: int) -> Cart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    with transaction.atomic():
        cart = owner.locked(create=False)
        deleted = 0
        if cart is not None and _is_possible_id(product_id):
            deleted, _ = CartItem.objects.filter(cart=cart, product_id=product_id).delete()
        if not deleted:
            raise _not_in_cart(product_id)
        cart_touch(cart)
    return cart


def cart_clear(*, user_id: int | None = None, guest_token: str | None = None) -> None:
    """Empty the cart. Clearing an empty (or never used) cart is not an error and writes nothing. Lines a running
    checkout has claimed are not the cart's any more and are left to that checkout."""
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    with transaction.atomic():
        cart = owner.locked(create=False)
        if cart is None:
            return
        deleted, _ = CartItem.objects.filter(cart=cart).delete()
        if deleted:
            cart_touch(cart)


def cart_voucher_set(*, user_id: int | None = None, guest_token: str | None = None, code: str | None) -> Cart:
    """Keep the voucher code on the cart (None or "" removes it). Whether it applies is checked by the caller."""
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    with transaction.atomic():
        cart = owner.locked(create=True)
        cart.voucher_code = code or ""
        cart.save(update_fields=["voucher_code", "updated_at"])
    return cart
