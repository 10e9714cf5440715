"""The fast product renderer gives exactly what the documented serializer gives, so the schema stays true."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from apps.gateway.api.catalog_render import page_json, product_json
from apps.gateway.api.catalog_serializers import ProductOutputSerializer
from ecommerce.contracts.products import DiscountType, ProductDTO

BASE = {
    "id": 7, "sku": "SKU-7", "name": "Lamp \u201cNo. 7\u201d", "slug": "lamp-7", "short_description": "",
    "description": "Line one\nline \"two\"", "category": None, "price": Decimal("10"),
    "discount_type": DiscountType.NONE, "discount_value": Decimal("0"), "discount_starts_at": None,
    "discount_ends_at": None, "effective_price": Decimal("10.00"), "image_url": "", "stock": 0, "is_active": False,
    "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "updated_at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
}


@pytest.mark.parametrize("changes", [
    {},
    {"category": 3, "stock": 12, "is_active": True, "image_url": "https://example.com/a.png"},
    {"discount_type": DiscountType.PERCENT, "discount_value": Decimal("12.5"), "effective_price": Decimal("8.75"),
     "discount_starts_at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))),
     "discount_ends_at": datetime(2026, 2, 1, 0, 0, 0, 1, tzinfo=UTC)},
    {"discount_type": DiscountType.FIXED, "discount_value": Decimal("99999999.99"), "price": Decimal("0.5"),
     "effective_price": Decimal("0")},
])
def test_a_rendered_product_equals_the_serializer_output(changes):
    product = ProductDTO(**{**BASE, **changes})

    fast = product_json(product)
    documented = JSONRenderer().render(ProductOutputSerializer(product).data)

    assert json.loads(fast) == json.loads(documented)
    assert list(json.loads(fast)) == list(json.loads(documented))  # same field order


def test_a_rendered_page_is_the_paginated_envelope():
    body = page_json(count=3, next_url="http://testserver/api/v1/products?page=2", previous_url=None,
                     results=b"[" + product_json(ProductDTO(**BASE)) + b"]")
    parsed = json.loads(body)
    assert list(parsed) == ["count", "next", "previous", "results"]
    assert (parsed["count"], parsed["previous"], parsed["results"][0]["id"]) == (3, None, 7)
