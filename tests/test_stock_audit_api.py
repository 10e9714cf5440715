"""The staff API's stock endpoint takes a reason and the audit trail records it with the caller as the actor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.gateway.tests.problems import assert_problem
from apps.products.models import StockAdjustment
from ecommerce.contracts.products import ProductInput, products_service

pytestmark = pytest.mark.django_db


def test_the_stock_endpoint_records_the_reason_and_the_caller(catalog_client):
    product = products_service.product_create(product=ProductInput(sku="API-1", name="Lamp", price=Decimal("5"),
                                                                   stock=2))
    response = catalog_client.post(f"/api/v1/products/{product.id}/stock", {"delta": 8, "reason": "Delivery 17"},
                                   format="json")
    assert response.status_code == 200
    assert response.json()["stock"] == 10
    row = StockAdjustment.objects.filter(product_id=product.id).first()
    assert (row.delta, row.on_hand_before, row.on_hand_after, row.reason, row.actor_id) == (
        8, 2, 10, "Delivery 17", catalog_client.user.id)


def test_a_reason_is_optional_and_a_long_one_is_400_changing_nothing(catalog_client):
    product = products_service.product_create(product=ProductInput(sku="API-2", name="Lamp", price=Decimal("5"),
                                                                   stock=2))
    assert catalog_client.post(f"/api/v1/products/{product.id}/stock", {"delta": 1}, format="json").status_code == 200
    problem = assert_problem(catalog_client.post(f"/api/v1/products/{product.id}/stock",
                                                 {"delta": 1, "reason": "x" * 256}, format="json"),
                             400, "validation_error")
    assert "reason" in problem["errors"]
    assert products_service.product_get(product_id=product.id).stock == 3
    assert StockAdjustment.objects.filter(product_id=product.id, delta=1).count() == 1
