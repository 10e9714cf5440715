"""Stock columns change only through the stock services' conditional updates: a save of a product read before a
concurrent sale (an admin form, a PUT) must not write the stale quantities back."""

from __future__ import annotations

import uuid

import pytest

from apps.products import services
from apps.products.models import Product
from ecommerce.contracts.products import ProductChanges, StockLine

pytestmark = pytest.mark.django_db


def test_saving_a_stale_product_keeps_the_stock_changed_meanwhile(make_product):
    product = make_product("Stale Lamp", stock=10)
    stale = Product.objects.get(pk=product.pk)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=3)])
    services.product_stock_adjust(product_id=product.pk, delta=-2)

    stale.name = "Renamed Lamp"
    stale.save()

    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.stock_on_hand, stored.stock_reserved) == ("Renamed Lamp", 8, 3)


def test_a_product_update_keeps_the_stock_changed_meanwhile(make_product, monkeypatch):
    product = make_product("Racing Lamp", stock=10)
    real_save = Product.save

    def save_after_a_sale(instance, *args, **kwargs):
        # A checkout reserves between the service's read and its write.
        services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=instance.pk, quantity=4)])
        real_save(instance, *args, **kwargs)

    monkeypatch.setattr(Product, "save", save_after_a_sale)
    services.product_update(product_id=product.pk, changes=ProductChanges(name="Racing Lamp II"))

    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.stock_on_hand, stored.stock_reserved) == ("Racing Lamp II", 10, 4)


def test_a_save_naming_stock_columns_is_refused(make_product):
    product = make_product(stock=5)
    product.stock_on_hand = 50
    with pytest.raises(ValueError, match="stock services"):
        product.save(update_fields=["stock_on_hand"])
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5


def test_a_new_product_is_inserted_with_its_initial_stock():
    product = Product(sku="NEW-1", name="New", slug="new", price="1.00", stock_on_hand=7)
    product.save()
    assert Product.objects.get(pk=product.pk).stock_on_hand == 7
