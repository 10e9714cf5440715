"""Writes of the products context: validation, slugs, deletion rules, stock moves, reservations and stock.low."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.products import services
from apps.products.models import Category, Product, ReservationStatus, StockReservation
from apps.products.services import products as product_services
from apps.products.tasks import release_stale_reservations
from ecommerce.contracts.products import CategoryChanges, CategoryInput, ProductChanges, ProductInput, StockLine
from ecommerce.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from ecommerce.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def product_input(**fields) -> ProductInput:
    fields.setdefault("sku", "SKU-X")
    fields.setdefault("name", "Desk Lamp")
    fields.setdefault("price", Decimal("25.00"))
    return ProductInput(**fields)


def stock_lines(*lines: tuple[int, int]) -> list[StockLine]:
    return [StockLine(product_id=product_id, quantity=quantity) for product_id, quantity in lines]


def reload(product: Product) -> Product:
    return Product.objects.get(pk=product.pk)


# --- categories -----------------------------------------------------------------------------------------------------

def test_category_slug_is_made_from_the_name_and_made_unique():
    first = services.category_create(category=CategoryInput(name="Garden Tools"))
    second = services.category_create(category=CategoryInput(name="Garden tools"))
    third = services.category_create(category=CategoryInput(name="Garden  Tools!"))
    assert (first.slug, second.slug, third.slug) == ("garden-tools", "garden-tools-2", "garden-tools-3")


def test_category_name_without_ascii_letters_still_gets_a_slug():
    assert services.category_create(category=CategoryInput(name="日本")).slug == "category"


def test_category_given_slug_must_be_free_and_valid(make_category):
    make_category("Books", slug="books")
    with pytest.raises(ValidationFailed) as taken:
        services.category_create(category=CategoryInput(name="Other", slug="books"))
    with pytest.raises(ValidationFailed) as invalid:
        services.category_create(category=CategoryInput(name="Other", slug="not a slug"))
    assert "slug" in taken.value.errors
    assert "slug" in invalid.value.errors
    assert Category.objects.count() == 1


def test_category_parent_must_exist():
    with pytest.raises(ValidationFailed) as error:
        services.category_create(category=CategoryInput(name="Orphan", parent=999_999))
    assert error.value.errors == {"parent": ["Unknown category."]}
    assert not Category.objects.exists()


def test_category_blank_name_is_rejected():
    with pytest.raises(ValidationFailed) as error:
        services.category_create(category=CategoryInput(name="   "))
    assert "name" in error.value.errors


def test_category_cannot_become_its_own_ancestor(make_category):
    root = make_category("Root")
    child = make_category("Child", parent=root)
    grandchild = make_category("Grandchild", parent=child)
    for new_parent in (root, grandchild):
        with pytest.raises(ValidationFailed) as error:
            services.category_update(category_id=root.pk, changes=CategoryChanges(parent=new_parent.pk))
        assert "parent" in error.value.errors
    assert Category.objects.get(pk=root.pk).parent_id is None


def test_category_update_applies_only_fields_sent(make_category):
    root = make_category("Root")
    category = make_category("Lamps", parent=root, description="Light")
    updated = services.category_update(category_id=category.pk, changes=CategoryChanges(description="Bright"))
    assert (updated.name, updated.slug, updated.description, updated.parent_id) == ("Lamps", "lamps", "Bright", root.pk)
    detached = services.category_update(category_id=category.pk, changes=CategoryChanges(parent=None))
    assert detached.parent_id is None


def test_category_update_unknown_is_not_found():
    with pytest.raises(NotFound):
        services.category_update(category_id=123, changes=CategoryChanges(name="x"))


def test_category_with_products_cannot_be_deleted(make_category, make_product):
    category = make_category("Lamps")
    make_product(category=category, is_active=False)
    with pytest.raises(Conflict) as error:
        services.category_delete(category_id=category.pk)
    assert "still has 1 product" in error.value.detail
    assert Category.objects.filter(pk=category.pk).exists()


def test_category_with_children_cannot_be_deleted(make_category):
    parent = make_category("Parent")
    make_category("Child", parent=parent)
    with pytest.raises(Conflict) as error:
        services.category_delete(category_id=parent.pk)
    assert "sub-categories" in error.value.detail


def test_empty_category_is_deleted(make_category):
    category = make_category()
    services.category_delete(category_id=category.pk)
    assert not Category.objects.filter(pk=category.pk).exists()
    with pytest.raises(NotFound):
        services.category_delete(category_id=category.pk)


# --- products -------------------------------------------------------------------------------------------------------

def test_product_create_stores_fields_and_initial_stock(make_category):
    category = make_category("Lighting")
    product = services.product_create(product=product_input(category=category.pk, stock=7, price=Decimal("25.5")))
    stored = reload(product)
    assert (stored.sku, stored.slug, stored.category_id, stored.price) == ("SKU-X", "desk-lamp", category.pk,
                                                                           Decimal("25.50"))
    assert (stored.stock_on_hand, stored.stock_reserved) == (7, 0)


def test_product_slug_is_unique_across_products():
    first = services.product_create(product=product_input(sku="A"))
    second = services.product_create(product=product_input(sku="B"))
    assert (first.slug, second.slug) == ("desk-lamp", "desk-lamp-2")


def test_duplicate_sku_is_a_field_error(make_product):
    make_product(sku="DUP-1")
    with pytest.raises(ValidationFailed) as error:
        services.product_create(product=product_input(sku="DUP-1"))
    assert error.value.errors == {"sku": ["A product with this SKU already exists."]}
    assert Product.objects.count() == 1


def test_lost_sku_race_becomes_a_field_error_not_a_500(make_product, monkeypatch):
    # given the pre-check misses a sku another writer inserted in the meantime
    make_product(sku="RACE-1")
    real_clean = services.clean_product

    def blind_clean(values, **kwargs):
        return real_clean(values, **{**kwargs, "check_unique": False})

    monkeypatch.setattr(product_services, "clean_product", blind_clean)
    # when the database refuses the insert
    with pytest.raises(ValidationFailed) as error:
        services.product_create(product=product_input(sku="RACE-1"))
    # then the caller sees the sku field error
    assert "sku" in error.value.errors


def test_lost_auto_slug_race_is_retried_with_a_new_slug(make_product, monkeypatch):
    make_product("Desk Lamp", sku="FIRST")
    calls = iter(["desk-lamp", "desk-lamp-9"])
    monkeypatch.setattr(product_services, "unique_slug", lambda *args, **kwargs: next(calls))
    product = services.product_create(product=product_input(sku="SECOND"))
    assert product.slug == "desk-lamp-9"


def test_unknown_category_is_a_field_error():
    with pytest.raises(ValidationFailed) as error:
        services.product_create(product=product_input(category=424242))
    assert error.value.errors == {"category": ["Unknown category."]}


@pytest.mark.parametrize(("fields", "field"), [
    ({"price": Decimal("-1")}, "price"),
    ({"price": Decimal("1.999")}, "price"),
    ({"price": Decimal("100000000000")}, "price"),
    ({"discount_type": "percent", "discount_value": Decimal("101")}, "discount_value"),
    ({"discount_type": "fixed", "discount_value": Decimal("-5")}, "discount_value"),
    ({"discount_type": "fixed", "discount_value": Decimal("25.01")}, "discount_value"),
    ({"discount_type": "fixed", "discount_value": Decimal("1"),
      "discount_starts_at": timezone.now(), "discount_ends_at": timezone.now() - timedelta(days=1)},
     "discount_ends_at"),
    ({"image_url": "not a url"}, "image_url"),
    ({"name": " "}, "name"),
    ({"sku": "x" * 65}, "sku"),
    ({"slug": "bad slug"}, "slug"),
    ({"short_description": "x" * 301}, "short_description"),
])
def test_invalid_product_fields_are_rejected_and_nothing_written(fields, field):
    with pytest.raises(ValidationFailed) as error:
        services.product_create(product=product_input(**fields))
    assert field in error.value.errors
    assert not Product.objects.exists()


def test_a_fixed_discount_larger_than_the_price_is_refused_with_the_price_named(make_product):
    with pytest.raises(ValidationFailed) as error:
        services.product_create(product=product_input(discount_type="fixed", discount_value=Decimal("30")))
    assert error.value.errors == {"discount_value": ["A fixed discount cannot be larger than the price (25.00)."]}

    product = make_product(price="20.00", discount_type="fixed", discount_value=Decimal("20.00"))  # free is allowed
    with pytest.raises(ValidationFailed):
        services.product_update(product_id=product.pk, changes=ProductChanges(price=Decimal("19.99")))
    assert reload(product).price == Decimal("20.00")


def test_no_discount_stores_zero_value():
    product = services.product_create(product=product_input(discount_type="none", discount_value=Decimal("30")))
    assert reload(product).discount_value == Decimal("0.00")


def test_naive_discount_dates_are_read_as_utc():
    product = services.product_create(product=product_input(
        discount_type="fixed", discount_value=Decimal("1"),
        discount_starts_at=timezone.now().replace(tzinfo=None) - timedelta(days=1)))
    assert timezone.is_aware(reload(product).discount_starts_at)


def test_partial_update_changes_only_fields_sent(make_product):
    product = make_product("Old Name", price="10.00", description="kept", stock=4)
    updated = services.product_update(product_id=product.pk, changes=ProductChanges(name="New Name"))
    stored = reload(updated)
    assert (stored.name, stored.description, stored.price, stored.slug) == ("New Name", "kept", Decimal("10.00"),
                                                                            product.slug)
    assert stored.stock_on_hand == 4


def test_partial_update_validates_the_merged_product(make_product):
    product = make_product(price="200.00", discount_type="fixed", discount_value=Decimal("150"))
    with pytest.raises(ValidationFailed) as error:
        services.product_update(product_id=product.pk, changes=ProductChanges(discount_type="percent"))
    assert "discount_value" in error.value.errors
    assert reload(product).discount_type == "fixed"


def test_partial_update_may_not_null_required_fields(make_product):
    product = make_product()
    with pytest.raises(ValidationFailed) as error:
        services.product_update(product_id=product.pk, changes=ProductChanges(name=None, price=None))
    assert set(error.value.errors) == {"name", "price"}


def test_partial_update_to_another_products_sku_is_rejected(make_product):
    make_product(sku="TAKEN")
    product = make_product(sku="MINE")
    with pytest.raises(ValidationFailed) as error:
        services.product_update(product_id=product.pk, changes=ProductChanges(sku="TAKEN"))
    assert "sku" in error.value.errors


def test_replace_sets_every_field_and_ignores_stock(make_product, make_category):
    product = make_product("Lamp", description="old", stock=5, short_description="short")
    category = make_category()
    replaced = services.product_replace(product_id=product.pk, product=ProductInput(
        sku=product.sku, name="Floor Lamp", price=Decimal("99.00"), category=category.pk, stock=500))
    stored = reload(replaced)
    assert (stored.name, stored.description, stored.short_description, stored.category_id) == (
        "Floor Lamp", "", "", category.pk)
    assert stored.stock_on_hand == 5
    assert stored.slug == "floor-lamp"


def test_update_of_unknown_product_is_not_found():
    with pytest.raises(NotFound):
        services.product_update(product_id=987, changes=ProductChanges(name="x"))
    with pytest.raises(NotFound):
        services.product_replace(product_id=987, product=product_input())


def test_bulk_create_inserts_new_skus_and_skips_existing(make_product):
    make_product(sku="EXISTING")
    items = [product_input(sku=f"BULK-{n}", name="Same Name", stock=n) for n in range(5)]
    items.append(product_input(sku="EXISTING"))
    items.append(product_input(sku="BULK-0"))  # duplicate inside the batch
    inserted = services.product_bulk_create(products=items)
    assert inserted == 5
    assert Product.objects.count() == 6
    assert Product.objects.get(sku="BULK-3").stock_on_hand == 3
    assert len(set(Product.objects.values_list("slug", flat=True))) == 6
    assert services.product_bulk_create(products=items) == 0


def test_bulk_create_rejects_invalid_rows_with_their_index():
    with pytest.raises(ValidationFailed) as error:
        services.product_bulk_create(products=[product_input(sku="OK"), product_input(sku="BAD", price=Decimal("-1"))])
    assert "1.price" in error.value.errors
    assert not Product.objects.exists()


def test_delete_never_reserved_product_removes_it(make_product):
    product = make_product()
    assert services.product_delete(product_id=product.pk) is False
    assert not Product.objects.filter(pk=product.pk).exists()


def test_delete_reserved_product_deactivates_it(make_product):
    product = make_product(stock=3)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 1)))
    services.stock_release(order_id=order_id)
    assert services.product_delete(product_id=product.pk) is True
    stored = reload(product)
    assert stored.is_active is False


def test_delete_unknown_product_is_not_found():
    with pytest.raises(NotFound):
        services.product_delete(product_id=4242)


# --- stock ----------------------------------------------------------------------------------------------------------

def test_stock_adjust_receives_and_writes_off(make_product):
    product = make_product(stock=10)
    assert services.product_stock_adjust(product_id=product.pk, delta=5).stock_on_hand == 15
    assert services.product_stock_adjust(product_id=product.pk, delta=-12).stock_on_hand == 3


def test_stock_adjust_never_below_reserved(make_product):
    product = make_product(stock=10)
    services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((product.pk, 8)))
    with pytest.raises(InsufficientStock) as error:
        services.product_stock_adjust(product_id=product.pk, delta=-3)
    assert "8 reserved" in error.value.detail
    assert error.value.extra["lines"] == [{"product_id": product.pk, "requested": 3, "available": 2}]
    stored = reload(product)
    assert (stored.stock_on_hand, stored.stock_reserved) == (10, 8)
    assert services.product_stock_adjust(product_id=product.pk, delta=-2).stock_available == 0


def test_stock_adjust_zero_or_unknown(make_product):
    product = make_product()
    with pytest.raises(ValidationFailed) as error:
        services.product_stock_adjust(product_id=product.pk, delta=0)
    assert "delta" in error.value.errors
    with pytest.raises(NotFound):
        services.product_stock_adjust(product_id=999_999, delta=1)


def test_database_refuses_reserved_above_on_hand(make_product):
    product = make_product(stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock_reserved=2)


def test_reserve_takes_stock_and_records_rows(make_product):
    lamp, desk = make_product(stock=5), make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=stock_lines((lamp.pk, 2), (desk.pk, 1), (lamp.pk, 1)))
    assert reload(lamp).stock_reserved == 3
    assert reload(desk).stock_reserved == 1
    rows = StockReservation.objects.filter(order_id=order_id).order_by("product_id")
    assert [(r.product_id, r.quantity, r.status, r.confirmed) for r in rows] == [
        (lamp.pk, 3, "reserved", False), (desk.pk, 1, "reserved", False)]


def test_reserve_is_all_or_nothing_and_names_every_short_line(make_product):
    enough = make_product(stock=5)
    short = make_product(stock=1)
    inactive = make_product(stock=9, is_active=False)
    with pytest.raises(InsufficientStock) as error:
        services.stock_reserve(order_id=uuid.uuid4(),
                               lines=stock_lines((enough.pk, 2), (short.pk, 3), (inactive.pk, 1), (777_777, 1)))
    assert error.value.extra["lines"] == [
        {"product_id": short.pk, "requested": 3, "available": 1},
        {"product_id": inactive.pk, "requested": 1, "available": 0},
        {"product_id": 777_777, "requested": 1, "available": 0},
    ]
    assert reload(enough).stock_reserved == 0
    assert not StockReservation.objects.exists()


def test_reserve_is_idempotent_per_order(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 2)))
    services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 2)))
    assert reload(product).stock_reserved == 2
    assert StockReservation.objects.count() == 1


def test_reserve_needs_lines():
    with pytest.raises(ValidationFailed):
        services.stock_reserve(order_id=uuid.uuid4(), lines=[])


def test_release_returns_stock_once(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 4)))
    services.stock_release(order_id=order_id)
    services.stock_release(order_id=order_id)
    stored = reload(product)
    assert (stored.stock_on_hand, stored.stock_reserved) == (5, 0)
    assert StockReservation.objects.get().status == ReservationStatus.RELEASED


def test_commit_takes_goods_off_hand_once_and_release_after_commit_does_nothing(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 2)))
    services.stock_commit(order_id=order_id)
    services.stock_commit(order_id=order_id)
    services.stock_release(order_id=order_id)
    stored = reload(product)
    assert (stored.stock_on_hand, stored.stock_reserved) == (3, 0)
    assert StockReservation.objects.get().status == ReservationStatus.COMMITTED


def test_release_and_commit_of_unknown_order_do_nothing(make_product):
    # given a product with another order's reservation on it
    product = make_product(stock=5)
    held_by = uuid.uuid4()
    services.stock_reserve(order_id=held_by, lines=stock_lines((product.pk, 2)))

    # when an order that holds nothing is released, committed and confirmed
    unknown = uuid.uuid4()
    released = services.stock_release(order_id=unknown)
    committed = services.stock_commit(order_id=unknown)
    services.stock_reservation_confirm(order_id=unknown)

    # then nothing was settled and the other order's reservation is untouched
    assert (released, committed) == (0, 0)
    stored = reload(product)
    assert (stored.stock_on_hand, stored.stock_reserved) == (5, 2)
    reservation = StockReservation.objects.get()
    assert (reservation.order_id, reservation.status, reservation.confirmed) == (
        held_by, ReservationStatus.RESERVED, False)


def test_stale_unconfirmed_reservations_are_released_by_the_task(make_product):
    product = make_product(stock=10)
    stale, confirmed, fresh = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for order_id in (stale, confirmed, fresh):
        services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 2)))
    services.stock_reservation_confirm(order_id=confirmed)
    eleven_minutes_ago = timezone.now() - timedelta(minutes=11)
    StockReservation.objects.filter(order_id__in=[stale, confirmed]).update(created_at=eleven_minutes_ago)

    released = release_stale_reservations.delay().get()

    assert released == 1
    statuses = dict(StockReservation.objects.values_list("order_id", "status"))
    assert statuses == {stale: "released", confirmed: "reserved", fresh: "reserved"}
    assert reload(product).stock_reserved == 4


@override_settings(ECOMMERCE_LOW_STOCK_THRESHOLD=5)
def test_stock_low_event_when_available_drops_to_threshold(make_product):
    product = make_product(sku="LOW-1", stock=8)
    services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((product.pk, 2)))  # 6 available: above
    assert not OutboxEvent.objects.filter(type="stock.low").exists()
    services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((product.pk, 1)))  # 5 available: crossed
    services.product_stock_adjust(product_id=product.pk, delta=-1)           # 4: already low, no new event
    events = list(OutboxEvent.objects.filter(type="stock.low"))
    assert [e.data for e in events] == [{"product_id": product.pk, "sku": "LOW-1", "name": product.name,
                                         "available": 5, "threshold": 5}]


@override_settings(ECOMMERCE_LOW_STOCK_THRESHOLD=5)
def test_stock_low_event_on_write_off_and_again_after_restock(make_product):
    product = make_product(stock=20)
    services.product_stock_adjust(product_id=product.pk, delta=-16)
    services.product_stock_adjust(product_id=product.pk, delta=10)
    services.product_stock_adjust(product_id=product.pk, delta=-10)
    assert [e.data["available"] for e in OutboxEvent.objects.filter(type="stock.low")] == [4, 4]


@override_settings(ECOMMERCE_LOW_STOCK_THRESHOLD=5)
def test_no_stock_low_event_when_the_reservation_fails(make_product):
    product = make_product(stock=6)
    with pytest.raises(InsufficientStock):
        services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((product.pk, 2), (999_999, 1)))
    assert not OutboxEvent.objects.exists()


def statements(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_reserving_and_settling_cost_the_same_statements_for_one_line_or_ten(make_product):
    # given one product for a small order and ten for a large one
    small, large = uuid.uuid4(), uuid.uuid4()
    one = stock_lines((make_product(sku="ONE-0", stock=50).pk, 2))
    ten = stock_lines(*((make_product(sku=f"TEN-{number}", stock=50).pk, 2) for number in range(10)))

    # when each order is reserved and then committed
    reserved = [statements(lambda: services.stock_reserve(order_id=small, lines=one)),
                statements(lambda: services.stock_reserve(order_id=large, lines=ten))]
    committed = [statements(lambda: services.stock_commit(order_id=small)),
                 statements(lambda: services.stock_commit(order_id=large))]

    # then each step cost the same whatever the number of lines, and every line was taken
    assert reserved[0] == reserved[1]
    assert committed[0] == committed[1]
    assert set(Product.objects.values_list("stock_on_hand", "stock_reserved")) == {(48, 0)}


@override_settings(ECOMMERCE_LOW_STOCK_THRESHOLD=5)
def test_one_reservation_crossing_the_threshold_on_several_products_writes_one_event_each(make_product):
    first, second, plenty = make_product(sku="LOW-A", stock=6), make_product(sku="LOW-B", stock=7), make_product(
        sku="LOW-C", stock=50)

    services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((first.pk, 1), (second.pk, 3), (plenty.pk, 1)))

    events = sorted(OutboxEvent.objects.filter(type="stock.low"), key=lambda event: event.data["product_id"])
    assert [event.data for event in events] == [
        {"product_id": first.pk, "sku": "LOW-A", "name": first.name, "available": 5, "threshold": 5},
        {"product_id": second.pk, "sku": "LOW-B", "name": second.name, "available": 4, "threshold": 5},
    ]
