"""The carts contract served in-process: a thin adapter from ``CartsService`` to the services and selectors here.
It converts models to DTOs and adds no rules of its own."""

from __future__ import annotations

from uuid import UUID

from apps.carts import selectors, services
from apps.carts.models import Cart
from ecommerce.contracts.carts import CartClaimDTO, CartDTO, CartLineDTO, CartsService


def _cart_dto(cart: Cart) -> CartDTO:
    return CartDTO(
        user_id=cart.user_id,
        items=[CartLineDTO(product_id=product_id, quantity=quantity)
               for product_id, quantity in selectors.cart_lines(cart=cart)],
        updated_at=cart.updated_at,
    )


class LocalCartsService(CartsService):
    def cart_get(self, *, user_id: int) -> CartDTO:
        return _cart_dto(services.cart_get_or_create(user_id=user_id))

    def cart_item_add(self, *, user_id: int, product_id: int, quantity: int, available: int) -> CartDTO:
        return _cart_dto(services.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity,
                                                available=available))

    def cart_item_set_quantity(self, *, user_id: int, product_id: int, quantity: int, available: int) -> CartDTO:
        return _cart_dto(services.cart_item_set_quantity(user_id=user_id, product_id=product_id, quantity=quantity,
                                                         available=available))

    def cart_item_remove(self, *, user_id: int, product_id: int) -> CartDTO:
        return _cart_dto(services.cart_item_remove(user_id=user_id, product_id=product_id))

    def cart_clear(self, *, user_id: int) -> None:
        services.cart_clear(user_id=user_id)

    def cart_claim(self, *, user_id: int, order_id: UUID, replaces_order_id: UUID | None = None) -> CartClaimDTO:
        claimed = services.cart_claim(user_id=user_id, order_id=order_id, replaces_order_id=replaces_order_id)
        return CartClaimDTO(
            order_id=claimed.claim.order_id,
            lines=[CartLineDTO(product_id=line.product_id, quantity=line.quantity) for line in claimed.lines],
        )

    def cart_claim_release(self, *, order_id: UUID) -> None:
        services.cart_claim_release(order_id=order_id)

    def cart_claim_complete(self, *, order_id: UUID) -> None:
        services.cart_claim_complete(order_id=order_id)
