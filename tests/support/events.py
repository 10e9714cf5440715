"""Event envelopes as the orders and products contexts publish them, for consumer tests that start from an event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def envelope(event_type: str, data: dict[str, Any], *, event_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"id": str(event_id or uuid.uuid4()), "type": event_type, "occurred_at": datetime.now(UTC).isoformat(),
            "version": 1, "data": data}


def order_data(*, user_id: int, number: str = "ORD-20260101-ABCDEFGH", status: str = "pending",
               **overrides: Any) -> dict[str, Any]:
    data = {
        "order_id": str(uuid.uuid4()), "number": number, "user_id": user_id, "status": status,
        "subtotal": "59.97", "shipping_cost": "5.00", "discount": "0.00", "total": "64.97", "currency": "USD",
        "payment_status": "pending",
        "lines": [
            {"product_id": 1, "sku": "MUG-RED", "name": "Red mug", "unit_price": "9.99", "quantity": 3,
             "line_total": "29.97"},
            {"product_id": 2, "sku": "TEA-EARL", "name": "Earl Grey <loose leaf>", "unit_price": "30.00",
             "quantity": 1, "line_total": "30.00"},
        ],
    }
    data.update(overrides)
    return data


def stock_low_data(*, product_id: int, sku: str, name: str, available: int, threshold: int = 5) -> dict[str, Any]:
    return {"product_id": product_id, "sku": sku, "name": name, "available": available, "threshold": threshold}


def payment_data(*, user_id: int, status: str = "succeeded", amount: str = "64.97", **overrides: Any) -> dict[str, Any]:
    """A payment event's data: the payment, and its order's number, lines and totals (``order_data``'s)."""
    order = order_data(user_id=user_id)
    data = {
        **{key: order[key] for key in ("order_id", "number", "user_id", "subtotal", "shipping_cost", "discount",
                                       "total", "currency", "lines")},
        "payment_id": str(uuid.uuid4()), "provider": "sandbox", "status": status, "amount": amount,
        "failure_message": "", "refund_reason": "",
    }
    data.update(overrides)
    return data
