"""Every ProductsService method, in-process and through the loopback RPC path (serialisation, signing, the internal
endpoint), including the typed errors that must arrive on the caller's side unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.products.models import Product, StockAdjustment, StockReservation
from ecommerce.contracts.products import (
    CategoryChanges,
    CategoryDTO,
    CategoryInput,
    DiscountType,
    PricedLine,
    ProductChanges,
    ProductDeletion,
    ProductDTO,
    ProductFilter,
    ProductInput,
    ProductPage,
    StockActor,
    StockLine,
    products_service,
)
from ecommerce.errors import Conflict, InsufficientStock, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def new_product(**fields) -> ProductDTO:
    fields.setdefault("sku", f"C-{uuid.uuid4().hex[:8]}")
    fields.setdefault("name", "Contract Lamp")
    fields.setdefault("price", Decimal("20.00"))
    return products_service.product_create(product=ProductInput(**fields))


# --- categories -----------------------------------------------------------------------------------------------------

def test_category_create_get_list(rpc_mode):
    parent = products_service.category_create(category=CategoryInput(name="Home"))
    child = products_service.category_create(category=CategoryInput(name="Lamps", parent=parent.id,
                                                                    description="Light"))
    assert isinstance(child, CategoryDTO)
    assert (child.slug, child.parent, child.description) == ("lamps", parent.id, "Light")
    assert products_service.category_get(category_id=child.id) == child
    page = products_service.category_list(page=1, page_size=1)
    assert page.count == 2
    assert [c.name for c in page.results] == ["Home"]
    assert [c.name for c in products_service.category_list(page=2, page_size=1).results] == ["Lamps"]


def test_category_errors_cross_the_wire(rpc_mode):
    with pytest.raises(NotFound):
        products_service.category_get(category_id=404)
    with pytest.raises(ValidationFailed) as error:
        products_service.category_create(category=CategoryInput(name="x", parent=999))
    assert error.value.errors == {"parent": ["Unknown category."]}


def test_category_update_sends_only_fields_set(rpc_mode):
    parent = products_service.category_create(category=CategoryInput(name="Parent"))
    category = products_service.category_create(category=CategoryInput(name="Child", parent=parent.id,
                                                                       description="d"))
    renamed = products_service.category_update(category_id=category.id, changes=CategoryChanges(name="Kid"))
    assert (renamed.name, renamed.slug, renamed.parent, renamed.description) == ("Kid", "child", parent.id, "d")
    detached = products_service.category_update(category_id=category.id, changes=CategoryChanges(parent=None))
    assert detached.parent is None


def test_category_delete_and_conflict(rpc_mode):
    used = products_service.category_create(category=CategoryInput(name="Used"))
    empty = products_service.category_create(category=CategoryInput(name="Empty"))
    new_product(category=used.id)
    with pytest.raises(Conflict) as error:
        products_service.category_delete(category_id=used.id)
    assert error.value.code == "conflict"
    assert "product" in error.value.detail
    assert products_service.category_delete(category_id=empty.id) is None
    with pytest.raises(NotFound):
        products_service.category_get(category_id=empty.id)


# --- products -------------------------------------------------------------------------------------------------------

def test_product_create_and_get(rpc_mode):
    created = new_product(sku="LAMP-1", price=Decimal("19.99"), stock=4, discount_type="percent",
                          discount_value=Decimal("10"))
    assert (created.sku, created.slug, created.stock) == ("LAMP-1", "contract-lamp", 4)
    assert (created.price, created.effective_price) == (Decimal("19.99"), Decimal("17.99"))
    assert products_service.product_get(product_id=created.id) == created


def test_product_get_hides_inactive_unless_asked(rpc_mode):
    hidden = new_product(is_active=False)
    with pytest.raises(NotFound):
        products_service.product_get(product_id=hidden.id)
    assert products_service.product_get(product_id=hidden.id, include_inactive=True).id == hidden.id


def test_product_create_validation_crosses_the_wire(rpc_mode):
    new_product(sku="TAKEN")
    with pytest.raises(ValidationFailed) as error:
        new_product(sku="TAKEN", category=31337, price=Decimal("-1"))
    assert set(error.value.errors) == {"sku", "category", "price"}
    assert Product.objects.count() == 1


def test_product_list_filters_and_pages(rpc_mode):
    for n in range(3):
        new_product(sku=f"LIST-{n}", name=f"Lamp {n}", price=Decimal(10 + n), stock=n)
    new_product(sku="OFF", name="Lamp off", is_active=False)
    page = products_service.product_list(filters=ProductFilter(in_stock=True, ordering="-price"), page=1,
                                         page_size=1)
    assert isinstance(page, ProductPage)
    assert page.count == 2
    assert [p.sku for p in page.results] == ["LIST-2"]
    everything = products_service.product_list(filters=ProductFilter(include_inactive=True, search="lamp"))
    assert everything.count == 4


def test_product_list_price_filter_and_bad_bounds(rpc_mode):
    new_product(sku="CHEAP", price=Decimal("5.00"))
    new_product(sku="SALE", price=Decimal("50.00"), discount_type="fixed", discount_value=Decimal("44"))
    new_product(sku="DEAR", price=Decimal("50.00"))
    page = products_service.product_list(filters=ProductFilter(max_price=Decimal("6.00"), ordering="price"))
    assert [p.sku for p in page.results] == ["CHEAP", "SALE"]
    with pytest.raises(ValidationFailed):
        products_service.product_list(filters=ProductFilter(), page=0)


def test_product_get_many(rpc_mode):
    first, hidden = new_product(), new_product(is_active=False)
    found = products_service.product_get_many(product_ids=[hidden.id, 123456, first.id])
    assert [p.id for p in found] == [hidden.id, first.id]
    assert products_service.product_get_many(product_ids=[]) == []


def test_product_bulk_create(rpc_mode):
    new_product(sku="BULK-0")
    inserted = products_service.product_bulk_create(products=[
        ProductInput(sku=f"BULK-{n}", name="Bulk item", price=Decimal("1.50"), stock=n) for n in range(4)
    ])
    assert inserted == 3
    assert Product.objects.filter(sku__startswith="BULK-").count() == 4
    with pytest.raises(ValidationFailed) as error:
        products_service.product_bulk_create(products=[ProductInput(sku="X", name="", price=Decimal("1"))])
    assert "0.name" in error.value.errors


def test_product_replace_ignores_stock(rpc_mode):
    product = new_product(stock=6, description="old")
    replaced = products_service.product_replace(product_id=product.id, product=ProductInput(
        sku=product.sku, name="Replaced", price=Decimal("7.00"), stock=999))
    assert (replaced.name, replaced.description, replaced.price, replaced.stock) == ("Replaced", "", Decimal("7.00"), 6)
    with pytest.raises(NotFound):
        products_service.product_replace(product_id=999_999, product=ProductInput(sku="Q", name="Q",
                                                                                  price=Decimal("1")))


def test_product_update_partial(rpc_mode):
    product = new_product(description="kept", price=Decimal("9.00"))
    updated = products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("8.50")))
    assert (updated.price, updated.description, updated.name) == (Decimal("8.50"), "kept", product.name)
    window_end = timezone.now() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as error:
        products_service.product_update(product_id=product.id, changes=ProductChanges(
            discount_type="fixed", discount_value=Decimal("1"), discount_starts_at=timezone.now(),
            discount_ends_at=window_end))
    assert "discount_ends_at" in error.value.errors


def test_product_delete_deletes_or_deactivates(rpc_mode):
    never_ordered, ordered = new_product(stock=2), new_product(stock=2)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=ordered.id, quantity=1)])
    assert products_service.product_delete(product_id=never_ordered.id) == ProductDeletion(deleted=True,
                                                                                          deactivated=False)
    assert products_service.product_delete(product_id=ordered.id) == ProductDeletion(deleted=False,
                                                                                    deactivated=True)
    assert products_service.product_get(product_id=ordered.id, include_inactive=True).is_active is False
    with pytest.raises(NotFound):
        products_service.product_delete(product_id=never_ordered.id)


def test_product_stock_adjust(rpc_mode):
    product = new_product(stock=5)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.id, quantity=4)])
    assert products_service.product_stock_adjust(product_id=product.id, delta=3).stock == 4
    with pytest.raises(InsufficientStock) as error:
        products_service.product_stock_adjust(product_id=product.id, delta=-5)
    assert error.value.extra["lines"] == [{"product_id": product.id, "requested": 5, "available": 4}]
    with pytest.raises(ValidationFailed):
        products_service.product_stock_adjust(product_id=product.id, delta=0)


def test_product_stock_adjust_records_reason_and_actor(rpc_mode):
    product = new_product(stock=2)
    products_service.product_stock_adjust(product_id=product.id, delta=5, reason="Delivery 42",
                                          actor=StockActor(id=7, email="clerk@example.com"))
    latest = StockAdjustment.objects.filter(product_id=product.id).first()
    assert (latest.delta, latest.on_hand_before, latest.on_hand_after, latest.reason, latest.actor_id,
            latest.actor_email, latest.source) == (5, 2, 7, "Delivery 42", 7, "clerk@example.com", "api")


# --- pricing an order ------------------------------------------------------------------------------------------------

def test_lines_are_priced_at_todays_effective_price_one_per_product(rpc_mode):
    now = timezone.now()
    lamp = new_product(sku="PRICE-LAMP", name="Lamp", price=Decimal("40.00"), stock=1,
                       discount_type=DiscountType.PERCENT, discount_value=Decimal("12.5"),
                       discount_starts_at=now - timedelta(days=1))
    bulb = new_product(sku="PRICE-BULB", name="Bulb", price=Decimal("2.50"), stock=0)

    priced = products_service.product_lines_price(lines=[
        StockLine(product_id=bulb.id, quantity=2), StockLine(product_id=lamp.id, quantity=1),
        StockLine(product_id=bulb.id, quantity=1)])

    # stock is not the pricing's business: the reservation checks it
    assert priced == sorted([
        PricedLine(product_id=lamp.id, sku="PRICE-LAMP", name="Lamp", unit_price=Decimal("35.00"), quantity=1),
        PricedLine(product_id=bulb.id, sku="PRICE-BULB", name="Bulb", unit_price=Decimal("2.50"), quantity=3),
    ], key=lambda line: line.product_id)


def test_lines_of_products_not_sold_are_named_and_nothing_is_priced(rpc_mode):
    sold, withdrawn = new_product(stock=5), new_product(stock=5)
    products_service.product_update(product_id=withdrawn.id, changes=ProductChanges(is_active=False))

    with pytest.raises(InsufficientStock) as unsellable:
        products_service.product_lines_price(lines=[
            StockLine(product_id=sold.id, quantity=1), StockLine(product_id=withdrawn.id, quantity=2),
            StockLine(product_id=987_654, quantity=1)])

    assert unsellable.value.extra["lines"] == sorted([
        {"product_id": withdrawn.id, "requested": 2, "available": 0},
        {"product_id": 987_654, "requested": 1, "available": 0},
    ], key=lambda line: line["product_id"])


# --- reservations ---------------------------------------------------------------------------------------------------

def test_reserve_confirm_commit(rpc_mode):
    product = new_product(stock=5)
    order_id = uuid.uuid4()
    lines = [StockLine(product_id=product.id, quantity=2)]
    assert products_service.stock_reserve(order_id=order_id, lines=lines) is None
    products_service.stock_reserve(order_id=order_id, lines=lines)
    products_service.stock_reservation_confirm(order_id=order_id)
    assert StockReservation.objects.get(order_id=order_id).confirmed is True
    assert products_service.product_get(product_id=product.id).stock == 3
    products_service.stock_commit(order_id=order_id)
    products_service.stock_commit(order_id=order_id)
    stored = Product.objects.get(pk=product.id)
    assert (stored.stock_on_hand, stored.stock_reserved) == (3, 0)


def test_a_reservation_replacing_a_dead_checkouts_takes_its_units_over(rpc_mode):
    # given a dead checkout holding 4 of 5 units, and its retry wanting 3
    product = new_product(stock=5)
    dead, retry = uuid.uuid4(), uuid.uuid4()
    products_service.stock_reserve(order_id=dead, lines=[StockLine(product_id=product.id, quantity=4)])

    # when the retry reserves in place of the dead one (twice: the call is idempotent)
    lines = [StockLine(product_id=product.id, quantity=3)]
    products_service.stock_reserve(order_id=retry, lines=lines, replaces_order_id=dead)
    products_service.stock_reserve(order_id=retry, lines=lines, replaces_order_id=dead)

    # then only the retry holds stock
    assert products_service.product_get(product_id=product.id).stock == 2
    assert dict(StockReservation.objects.values_list("order_id", "status")) == {dead: "released", retry: "reserved"}


def test_reserve_shortage_and_release(rpc_mode):
    plenty, scarce = new_product(stock=5), new_product(stock=1)
    with pytest.raises(InsufficientStock) as error:
        products_service.stock_reserve(order_id=uuid.uuid4(), lines=[
            StockLine(product_id=plenty.id, quantity=1), StockLine(product_id=scarce.id, quantity=2)])
    assert error.value.code == "insufficient_stock"
    assert error.value.extra["lines"] == [{"product_id": scarce.id, "requested": 2, "available": 1}]
    assert products_service.product_get(product_id=plenty.id).stock == 5

    order_id = uuid.uuid4()
    products_service.stock_reserve(order_id=order_id, lines=[StockLine(product_id=plenty.id, quantity=5)])
    assert products_service.product_get(product_id=plenty.id).stock == 0
    products_service.stock_release(order_id=order_id)
    products_service.stock_release(order_id=order_id)
    assert products_service.product_get(product_id=plenty.id).stock == 5
