"""What every order event carries (``order.created`` and each status change): the order's identity, owner, status,
money and lines, so a consumer never has to call back to learn what happened. A payment event
(``payment.succeeded``, ``payment.failed``, ``payment.refunded``) carries the payment, its order's identity, owner,
lines and totals: enough for a receipt."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.orders.models import Order, OrderLine, Payment


def _lines_data(lines: Iterable[OrderLine]) -> list[dict[str, Any]]:
    return [
        {"product_id": line.product_id, "sku": line.sku, "name": line.name, "unit_price": line.unit_price,
         "quantity": line.quantity, "line_total": line.line_total}
        for line in lines
    ]


def order_event_data(order: Order, lines: Iterable[OrderLine]) -> dict[str, Any]:
    return {
        "order_id": order.id, "number": order.number, "user_id": order.user_id, "status": order.status,
        "subtotal": order.subtotal, "shipping_cost": order.shipping_cost, "discount": order.discount,
        "total": order.total, "currency": order.currency, "payment_status": order.payment_status,
        "lines": _lines_data(lines),
    }


def payment_event_data(payment: Payment, order: Order) -> dict[str, Any]:
    return {
        "payment_id": payment.id, "order_id": order.id, "number": order.number, "user_id": order.user_id,
        "provider": payment.provider, "status": payment.status, "amount": payment.amount,
        "currency": payment.currency, "failure_message": payment.failure_message,
        "refund_reason": payment.refund_reason,
        "subtotal": order.subtotal, "shipping_cost": order.shipping_cost, "discount": order.discount,
        "total": order.total, "lines": _lines_data(order.lines.all()),
    }
