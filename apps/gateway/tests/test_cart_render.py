"""The fast cart renderer gives exactly what the documented serializer gives, so the schema stays true."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from apps.gateway.api.cart_render import cart_json
from apps.gateway.api.cart_serializers import CartOutputSerializer
from apps.gateway.composition.cart import AppliedVoucher, PricedCart, PricedCartLine

LAMP = PricedCartLine(product_id=7, sku="SKU-7", name="Lamp \u201cNo. 7\u201d \u2028 \"quoted\"",
                      unit_price=Decimal("10.00"), quantity=3, line_total=Decimal("30.00"), available=12)
BULB = PricedCartLine(product_id=8, sku="SKU-8", name="Bulb", unit_price=Decimal("0.50"), quantity=1000,
                      line_total=Decimal("500.00"), available=0, price_changed_from=Decimal("0.45"))
DEAR = PricedCartLine(product_id=9, sku="SKU-9", name="Dear", unit_price=Decimal("99999999.99"), quantity=1000,
                      line_total=Decimal("99999999990.00"), available=1000, price_changed_from=Decimal("1"))


@pytest.mark.parametrize("cart", [
    PricedCart(items=[], total_quantity=0, subtotal=Decimal("0.00"), currency="USD", updated_at=None),
    PricedCart(items=[LAMP, BULB], total_quantity=1003, subtotal=Decimal("530.00"), currency="USD",
               updated_at=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
               voucher=AppliedVoucher(code="SPRING", discount=Decimal("5.00"))),
    PricedCart(items=[LAMP], total_quantity=3, subtotal=Decimal("30.00"), currency="EUR",
               updated_at=datetime(2026, 6, 1, tzinfo=timezone(timedelta(hours=2))),
               voucher=AppliedVoucher(code="OLD", discount=Decimal("0.00"), problem="This voucher has expired.")),
    PricedCart(items=[DEAR], total_quantity=1000, subtotal=Decimal("99999999990.00"), currency="USD",
               updated_at=datetime(2026, 1, 2, tzinfo=UTC)),
], ids=["empty", "voucher", "voucher-with-problem", "dearest"])
def test_a_rendered_cart_equals_the_serializer_output(cart):
    fast = cart_json(cart)
    documented = JSONRenderer().render(CartOutputSerializer(cart).data)

    # the same fields with the same values, in the same order at every level
    assert json.loads(fast, object_pairs_hook=list) == json.loads(documented, object_pairs_hook=list)
