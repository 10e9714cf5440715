"""The carts contract served in-process: a thin adapter from ``CartsService`` to the services and selectors here.
It converts models to DTOs and adds no rules of its own."""

from __future__ import annotations

from apps.carts import selectors, services
from apps.carts.models import Cart
from ecommerce.contracts.carts import CartDTO, CartLineDTO, CartLineQuantity, CartsService
from ecommerce.money import currency


def _cart_dto(cart: Cart) -> CartDTO:
    priced = selectors.cart_priced(cart=cart)
    return CartDTO(
        user_id=priced.user_id,
        items=[
            CartLineDTO(
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                available=line.available,
            )
            for line in priced.lines
        ],
        total_quantity=priced.total_quantity,
        subtotal=priced.subtotal,
        currency=currency(),
        updated_at=priced.updated_at,
    )


class LocalCartsService(CartsService):
    def cart_get(self, *, user_id: int) -> CartDTO:
        return _cart_dto(services.cart_get_or_create(user_id=user_id))

    def cart_item_add(self, *, user_id: int, product_id: int, quantity: int) -> CartDTO:
        return _cart_dto(services.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity))

    def cart_item_set_quantity(self, *, user_id: int, product_id: int, quantity: int) -> CartDTO:
        return _cart_dto(services.cart_item_set_quantity(user_id=user_id, product_id=product_id, quantity=quantity))

    def cart_item_remove(self, *, user_id: int, product_id: int) -> CartDTO:
        return _cart_dto(services.cart_item_remove(user_id=user_id, product_id=product_id))

    def cart_clear(self, *, user_id: int) -> None:
        services.cart_clear(user_id=user_id)

    def cart_lines_checked_out(self, *, user_id: int, order_id: str, lines: list[CartLineQuantity]) -> None:
        services.cart_lines_checked_out(user_id=user_id, order_id=order_id, lines=lines)
