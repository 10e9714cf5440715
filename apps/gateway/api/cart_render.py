"""Cart answers rendered straight from the composed cart to JSON bytes, without a serializer pass.

Rule guarded here: the bytes are exactly what ``CartOutputSerializer`` (the schema's description of a cart) would
give: the same fields in the same order, money as two-place strings, timestamps in UTC with ``Z``. A test compares
the two for every kind of cart and line.
"""

from __future__ import annotations

from decimal import Decimal

import orjson

from apps.gateway.api.catalog_render import iso
from apps.gateway.composition.cart import PricedCart, PricedCartLine
from ecommerce.money import CENT


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"  # as DRF's DecimalField writes it: two places, never an exponent


def _line(line: PricedCartLine) -> dict[str, object]:
    return {
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "unit_price": _money(line.unit_price),
        "quantity": line.quantity,
        "line_total": _money(line.line_total),
        "available": line.available,
        "price_changed_from": _money(line.price_changed_from) if line.price_changed_from is not None else None,
    }


def cart_json(cart: PricedCart) -> bytes:
    voucher = cart.voucher
    return orjson.dumps({
        "items": [_line(line) for line in cart.items],
        "total_quantity": cart.total_quantity,
        "subtotal": _money(cart.subtotal),
        "voucher": {"code": voucher.code, "discount": _money(voucher.discount), "problem": voucher.problem}
        if voucher is not None else None,
        "discount": _money(cart.discount),
        "total": _money(cart.total),
        "currency": cart.currency,
        "updated_at": iso(cart.updated_at),
    })
