"""The in-process implementation of the orders contract: a thin adapter from contract calls to services and
selectors, turning models into DTOs. It holds no business rules."""

from __future__ import annotations

from uuid import UUID

from apps.orders import selectors, services
from apps.orders.models import Order
from ecommerce.contracts.common import Page
from ecommerce.contracts.orders import (
    CheckoutResult,
    OrderDTO,
    OrderLineDTO,
    OrdersService,
    OrderStatus,
    ShippingAddressDTO,
)


def order_to_dto(order: Order) -> OrderDTO:
    return OrderDTO(
        id=order.id,
        number=order.number,
        user_id=order.user_id,
        status=OrderStatus(order.status),
        items=[
            OrderLineDTO(product_id=line.product_id, sku=line.sku, name=line.name, unit_price=line.unit_price,
                         quantity=line.quantity, line_total=line.line_total)
            for line in order.lines.all()
        ],
        subtotal=order.subtotal,
        shipping_cost=order.shipping_cost,
        discount=order.discount,
        total=order.total,
        currency=order.currency,
        shipping_address=ShippingAddressDTO(
            full_name=order.shipping_full_name, street=order.shipping_street, city=order.shipping_city,
            state=order.shipping_state, zip_code=order.shipping_zip_code, country=order.shipping_country,
            phone=order.shipping_phone,
        ),
        payment_status=order.payment_status,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


class LocalOrdersService(OrdersService):
    def order_checkout(self, *, user_id: int, address_id: int, idempotency_key: str,
                       request_fingerprint: str) -> CheckoutResult:
        outcome = services.order_checkout(user_id=user_id, address_id=address_id, idempotency_key=idempotency_key,
                                          request_fingerprint=request_fingerprint)
        return CheckoutResult(order=order_to_dto(outcome.order), replayed=outcome.replayed)

    def order_list(self, *, user_id: int | None, status: OrderStatus | None = None, page: int = 1,
                   page_size: int = 20) -> Page[OrderDTO]:
        count, orders = selectors.order_list(user_id=user_id, status=status, page=page, page_size=page_size)
        return Page[OrderDTO](count=count, results=[order_to_dto(order) for order in orders])

    def order_get(self, *, order_id: UUID, user_id: int | None) -> OrderDTO:
        return order_to_dto(selectors.order_get(order_id=order_id, user_id=user_id))

    def order_cancel(self, *, order_id: UUID, user_id: int | None, actor_id: int) -> OrderDTO:
        return order_to_dto(services.order_cancel(order_id=order_id, user_id=user_id, actor_id=actor_id))

    def order_transition(self, *, order_id: UUID, status: OrderStatus, actor_id: int) -> OrderDTO:
        if status == OrderStatus.CANCELED:
            return order_to_dto(services.order_cancel(order_id=order_id, user_id=None, actor_id=actor_id))
        return order_to_dto(services.order_transition(order_id=order_id, to_status=status, actor_id=actor_id,
                                                      reason="changed by staff"))

    def orders_expire_unpaid(self) -> int:
        return services.orders_expire_unpaid()
