"""How an order and a payment look across the contract: one mapping from the models to each DTO, used by the
contract adapter for every read and by checkout and payment creation for the answers they store and replay."""

from __future__ import annotations

from collections.abc import Iterable

from apps.orders.models import Order, OrderLine, Payment, Voucher
from ecommerce.contracts.orders import (
    OrderDTO,
    OrderLineDTO,
    OrderStatus,
    PaymentDTO,
    PaymentStatus,
    ShippingAddressDTO,
    VoucherDTO,
    VoucherKind,
)


def order_to_dto(order: Order, lines: Iterable[OrderLine] | None = None) -> OrderDTO:
    """``lines`` when the caller already holds them (checkout); otherwise the order's (prefetched) lines."""
    return OrderDTO(
        id=order.id,
        number=order.number,
        user_id=order.user_id,
        status=OrderStatus(order.status),
        items=[
            OrderLineDTO(product_id=line.product_id, sku=line.sku, name=line.name, unit_price=line.unit_price,
                         quantity=line.quantity, line_total=line.line_total)
            for line in (order.lines.all() if lines is None else lines)
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
        carrier=order.shipping_carrier or None,
        tracking_number=order.tracking_number or None,
    )


def payment_to_dto(payment: Payment) -> PaymentDTO:
    """``payment.order`` is read for its owner: select it with the payment."""
    return PaymentDTO(
        id=payment.id, order_id=payment.order_id, user_id=payment.order.user_id, provider=payment.provider,
        status=PaymentStatus(payment.status), amount=payment.amount, currency=payment.currency,
        client_secret=payment.client_secret or None, failure_message=payment.failure_message or None,
        created_at=payment.created_at, updated_at=payment.updated_at,
    )


def voucher_to_dto(voucher: Voucher) -> VoucherDTO:
    return VoucherDTO(
        id=voucher.pk, code=voucher.code, kind=VoucherKind(voucher.kind), value=voucher.value,
        min_subtotal=voucher.min_subtotal, starts_at=voucher.starts_at, ends_at=voucher.ends_at,
        max_uses=voucher.max_uses, max_uses_per_customer=voucher.max_uses_per_customer, uses=voucher.uses,
    )
