"""Orders context contract: checkout, order reads, cancellation and fulfilment transitions."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from ecommerce.contracts.common import DTO, Money, Page
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELED = "canceled"


class OrderLineDTO(DTO):
    product_id: int
    sku: str
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class ShippingAddressDTO(DTO):
    full_name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    phone: str


class OrderDTO(DTO):
    id: UUID
    number: str
    user_id: int
    status: OrderStatus
    items: list[OrderLineDTO]
    subtotal: Money
    shipping_cost: Money
    discount: Money
    total: Money
    currency: str
    shipping_address: ShippingAddressDTO
    payment_status: str | None
    created_at: datetime
    updated_at: datetime


class CheckoutResult(DTO):
    order: OrderDTO
    replayed: bool


class OrdersService(Service):
    service_name = "orders"
    local_implementation = "apps.orders.rpc.LocalOrdersService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_checkout(
        self, *, user_id: int, address_id: int, idempotency_key: str, request_fingerprint: str
    ) -> CheckoutResult:
        """Make an order from the user's cart; a cart is checked out at most once (another checkout of it still
        running: CartCheckoutInProgress; the user already holds the most unpaid orders allowed: TooManyOpenOrders).
        Idempotent per (user, key): the same fingerprint replays the first answer verbatim (the order as first
        returned, or the same typed error), another fingerprint raises IdempotencyConflict, a call still running
        raises IdempotencyInProgress."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_list(
        self, *, user_id: int | None, status: OrderStatus | None = None, page: int = 1, page_size: int = 20
    ) -> Page[OrderDTO]:
        """Newest first. ``user_id=None`` lists every user's orders (staff only: the caller decides)."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_get(self, *, order_id: UUID, user_id: int | None) -> OrderDTO:
        """``user_id`` scopes the read to that owner (another user's order is NotFound); None for staff."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_cancel(self, *, order_id: UUID, user_id: int | None, actor_id: int) -> OrderDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def order_transition(self, *, order_id: UUID, status: OrderStatus, actor_id: int) -> OrderDTO:
        """Staff moves an order along a legal transition, else InvalidTransition."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def orders_expire_unpaid(self) -> int:
        """Cancel pending orders older than the TTL and release their stock; returns how many were canceled."""


orders_service: OrdersService = ServiceDelegator(OrdersService)  # type: ignore[assignment]
