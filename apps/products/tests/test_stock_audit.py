"""Every receipt and write-off leaves an audit row (who, when, before, after, why) written with the change itself;
a refused change leaves none, and nothing ever takes available stock below what open orders reserved."""

from __future__ import annotations

import uuid

import pytest

from apps.products import services
from apps.products.models import Product, StockAdjustment
from ecommerce.contracts.products import ProductInput, StockActor, StockLine
from ecommerce.errors import InsufficientStock, ValidationFailed

pytestmark = pytest.mark.django_db

CLERK = StockActor(id=41, email="clerk@example.com")


def test_an_adjustment_is_audited_with_who_before_after_and_why(make_product):
    product = make_product(stock=10)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=4)])

    services.product_stock_adjust(product_id=product.pk, delta=-3, reason="Broken in the warehouse", actor=CLERK,
                                  source="admin")

    row = StockAdjustment.objects.filter(product=product).first()
    assert (row.sku, row.delta, row.on_hand_before, row.on_hand_after, row.reserved) == (product.sku, -3, 10, 7, 4)
    assert (row.available_before, row.available_after) == (6, 3)
    assert (row.reason, row.actor_id, row.actor_email, row.source) == ("Broken in the warehouse", 41,
                                                                     "clerk@example.com", "admin")
    assert row.created_at is not None


def test_a_refused_write_off_changes_nothing_and_audits_nothing(make_product):
    product = make_product(stock=5)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=4)])
    before = StockAdjustment.objects.count()

    with pytest.raises(InsufficientStock):
        services.product_stock_adjust(product_id=product.pk, delta=-2, reason="Count", actor=CLERK)

    stored = Product.objects.get(pk=product.pk)
    assert (stored.stock_on_hand, stored.stock_reserved) == (5, 4)
    assert StockAdjustment.objects.count() == before


def test_a_reason_longer_than_the_column_is_a_field_error(make_product):
    product = make_product(stock=5)
    with pytest.raises(ValidationFailed) as error:
        services.product_stock_adjust(product_id=product.pk, delta=1, reason="x" * 256)
    assert set(error.value.errors) == {"reason"}
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5


def test_initial_stock_of_a_new_product_is_audited_and_none_is_not():
    stocked = services.product_create(product=ProductInput(sku="INIT-1", name="Stocked", price="1.00", stock=12),
                                      actor=CLERK)
    empty = services.product_create(product=ProductInput(sku="INIT-2", name="Empty", price="1.00"))

    row = StockAdjustment.objects.get(product=stocked)
    assert (row.delta, row.on_hand_before, row.on_hand_after, row.reason, row.source, row.actor_id) == (
        12, 0, 12, "Initial stock", "initial", 41)
    assert not StockAdjustment.objects.filter(product=empty).exists()


def test_the_trail_outlives_a_deleted_product(make_product):
    product = make_product(stock=3)
    services.product_delete(product_id=product.pk)
    row = StockAdjustment.objects.get(sku=product.sku)
    assert row.product_id is None
