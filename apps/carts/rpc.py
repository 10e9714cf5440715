"""The carts contract served in-process: a thin adapter from ``CartsService`` to the services and selectors here.
It converts models to DTOs and adds no rules of its own."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from apps.carts import selectors, services
from apps.carts.models import Cart
from ecommerce.contracts.carts import (
    CartClaimDTO,
    CartDTO,
    CartLineDTO,
    CartMergeResult,
    CartsService,
    GuestCartDTO,
    MergeNotice,
)


def _cart_dto(cart: Cart) -> CartDTO:
    return CartDTO(
        user_id=cart.user_id,
        items=[CartLineDTO(product_id=product_id, quantity=quantity, added_unit_price=added_unit_price)
               for product_id, quantity, added_unit_price in selectors.cart_lines(cart=cart)],
        updated_at=cart.updated_at,
        voucher_code=cart.voucher_code or None,
    )


class LocalCartsService(CartsService):
    def cart_get(self, *, user_id: int | None = None, guest_token: str | None = None) -> CartDTO:
        found = selectors.user_cart_with_lines(user_id=user_id) if user_id is not None and not guest_token else None
        if found is None:  # a guest's cart, or a user's first read, which makes the cart
            return _cart_dto(services.cart_get_or_create(user_id=user_id, guest_token=guest_token))
        updated_at, voucher_code, lines = found
        return CartDTO(
            user_id=user_id,
            items=[CartLineDTO(product_id=product_id, quantity=quantity, added_unit_price=added_unit_price)
                   for product_id, quantity, added_unit_price in lines],
            updated_at=updated_at,
            voucher_code=voucher_code or None,
        )

    def cart_item_add(self, *, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                      quantity: int, available: int, unit_price: Decimal | None = None) -> CartDTO:
        return _cart_dto(services.cart_item_add(user_id=user_id, guest_token=guest_token, product_id=product_id,
                                                quantity=quantity, available=available, unit_price=unit_price))

    def cart_item_set_quantity(self, *, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                               quantity: int, available: int) -> CartDTO:
        return _cart_dto(services.cart_item_set_quantity(user_id=user_id, guest_token=guest_token,
                                                         product_id=product_id, quantity=quantity,
                                                         available=available))

    def cart_item_remove(self, *, user_id: int | None = None, guest_token: str | None = None,
                         product_id: int) -> CartDTO:
        return _cart_dto(services.cart_item_remove(user_id=user_id, guest_token=guest_token, product_id=product_id))

    def cart_clear(self, *, user_id: int | None = None, guest_token: str | None = None) -> None:
        services.cart_clear(user_id=user_id, guest_token=guest_token)

    def cart_voucher_set(self, *, user_id: int | None = None, guest_token: str | None = None,
                         code: str | None) -> CartDTO:
        return _cart_dto(services.cart_voucher_set(user_id=user_id, guest_token=guest_token, code=code))

    def guest_cart_create(self) -> GuestCartDTO:
        return GuestCartDTO(token=services.guest_cart_create())

    def guest_cart_merge(self, *, guest_token: str, user_id: int, available: dict[int, int],
                         unit_prices: dict[int, Decimal]) -> CartMergeResult:
        merged = services.guest_cart_merge(guest_token=guest_token, user_id=user_id, available=available,
                                           unit_prices=unit_prices)
        return CartMergeResult(
            cart=_cart_dto(merged.cart),
            notices=[MergeNotice(product_id=line.product_id, code=services.QUANTITY_CAPPED,
                                 requested=line.requested, kept=line.kept) for line in merged.capped],
        )

    def cart_claim(self, *, user_id: int, order_id: UUID, replaces_order_id: UUID | None = None) -> CartClaimDTO:
        claimed = services.cart_claim(user_id=user_id, order_id=order_id, replaces_order_id=replaces_order_id)
        return CartClaimDTO(
            order_id=claimed.claim.order_id,
            lines=[CartLineDTO(product_id=line.product_id, quantity=line.quantity,
                               added_unit_price=line.added_unit_price) for line in claimed.lines],
            voucher_code=claimed.claim.voucher_code or None,
        )

    def cart_claim_release(self, *, order_id: UUID) -> None:
        services.cart_claim_release(order_id=order_id)

    def cart_claim_complete(self, *, order_id: UUID) -> None:
        services.cart_claim_complete(order_id=order_id)
