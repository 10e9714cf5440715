"""Carts context contract. Lines hold only product ids and quantities; prices are read from the catalog."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime

from pydantic import Field

from ecommerce.contracts.common import DTO, Money
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class CartLineDTO(DTO):
    product_id: int
    sku: str
    name: str
    unit_price: Money
    quantity: int
    line_total: Money
    available: int = Field(description="Quantity of this product available to buy now (0 if no longer sold).")


class CartDTO(DTO):
    user_id: int
    items: list[CartLineDTO]
    total_quantity: int
    subtotal: Money
    currency: str
    updated_at: datetime | None


class CartLineQuantity(DTO):
    product_id: int
    quantity: int = Field(ge=1)


class CartsService(Service):
    service_name = "carts"
    local_implementation = "apps.carts.rpc.LocalCartsService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_get(self, *, user_id: int) -> CartDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def cart_item_add(self, *, user_id: int, product_id: int, quantity: int) -> CartDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_set_quantity(self, *, user_id: int, product_id: int, quantity: int) -> CartDTO:
        """Quantity 0 removes the line."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_remove(self, *, user_id: int, product_id: int) -> CartDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_clear(self, *, user_id: int) -> None: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_lines_checked_out(self, *, user_id: int, order_id: str, lines: list[CartLineQuantity]) -> None:
        """Remove what an order took from the cart (at most the ordered quantities, so lines added meanwhile stay).
        Keyed by order id: a second call for the same order changes nothing."""


carts_service: CartsService = ServiceDelegator(CartsService)  # type: ignore[assignment]
