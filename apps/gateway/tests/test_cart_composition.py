"""The cart the public API shows, composed in the gateway from the carts and products contracts, in-process and
through the loopback RPC path: prices, names and availability come from one catalog read, a line is checked
against what the catalog has available, and no contract calls another from inside its implementation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.gateway.composition import cart as composition
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import DiscountType, ProductChanges, ProductInput, StockLine, products_service
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed
from tests.contract_spy import spying_on_contracts

pytestmark = pytest.mark.django_db

USER = 401
OTHER_USER = 402
_skus = count(1)


def make_product(*, price: str = "10.00", stock: int = 5):
    number = next(_skus)
    return products_service.product_create(product=ProductInput(
        sku=f"COMP-{number}", name=f"Composed product {number}", price=Decimal(price), stock=stock))


def quantities(user_id: int = USER) -> dict[int, int]:
    return {line.product_id: line.quantity for line in carts_service.cart_get(user_id=user_id).items}


def test_a_new_user_sees_an_empty_priced_cart(rpc_mode, settings):
    cart = composition.cart_priced(user_id=USER)

    assert cart.items == []
    assert (cart.total_quantity, cart.subtotal, cart.currency) == (0, Decimal("0.00"), settings.ECOMMERCE_CURRENCY)
    assert cart.updated_at is not None


def test_adding_answers_the_priced_cart(rpc_mode):
    product = make_product(price="12.34", stock=7)

    composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    cart = composition.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    [line] = cart.items
    assert (line.product_id, line.sku, line.name) == (product.id, product.sku, product.name)
    assert (line.unit_price, line.quantity, line.line_total, line.available) == (
        Decimal("12.34"), 3, Decimal("37.02"), 7)
    assert (cart.total_quantity, cart.subtotal) == (3, Decimal("37.02"))
    assert composition.cart_priced(user_id=OTHER_USER).items == []


def test_adding_refuses_what_the_catalog_cannot_sell_and_changes_nothing(rpc_mode):
    product = make_product(stock=2)
    inactive = make_product()
    products_service.product_update(product_id=inactive.id, changes=ProductChanges(is_active=False))

    with pytest.raises(ValidationFailed) as invalid:
        composition.cart_item_add(user_id=USER, product_id=product.id, quantity=0)
    with pytest.raises(NotFound):
        composition.cart_item_add(user_id=USER, product_id=999_999, quantity=1)
    with pytest.raises(NotFound):
        composition.cart_item_add(user_id=USER, product_id=inactive.id, quantity=1)
    with pytest.raises(InsufficientStock) as short:
        composition.cart_item_add(user_id=USER, product_id=product.id, quantity=3)

    assert list(invalid.value.errors) == ["quantity"]
    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 3, "available": 2}]
    assert quantities() == {}


def test_stock_reserved_by_orders_is_not_available_to_carts(rpc_mode):
    product = make_product(stock=5)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.id, quantity=4)])

    with pytest.raises(InsufficientStock) as short:
        composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 2, "available": 1}]


def test_setting_a_quantity_is_checked_against_the_catalog(rpc_mode):
    product, absent = make_product(stock=3), make_product(stock=3)
    composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    with pytest.raises(ValidationFailed) as invalid:
        composition.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=-1)
    with pytest.raises(NotFound):
        composition.cart_item_set_quantity(user_id=USER, product_id=absent.id, quantity=1)
    with pytest.raises(InsufficientStock) as short:
        composition.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=4)
    changed = composition.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=3)

    assert "quantity" in invalid.value.errors
    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 4, "available": 3}]
    assert [(line.quantity, line.line_total) for line in changed.items] == [(3, Decimal("30.00"))]


def test_a_line_of_a_product_no_longer_sold_can_only_be_removed(rpc_mode):
    product = make_product(stock=3)
    composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    products_service.product_update(product_id=product.id, changes=ProductChanges(is_active=False))

    with pytest.raises(InsufficientStock):
        composition.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=1)
    emptied = composition.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=0)

    assert emptied.items == []
    assert quantities() == {}


def test_prices_follow_the_catalog_and_its_discount_window(rpc_mode):
    product = make_product(price="50.00", stock=5)
    composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    now = timezone.now()

    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("40.00")))
    repriced = composition.cart_priced(user_id=USER)
    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_type=DiscountType.FIXED, discount_value=Decimal("5.00"),
        discount_starts_at=now - timedelta(minutes=5), discount_ends_at=now + timedelta(minutes=5)))
    discounted = composition.cart_priced(user_id=USER)
    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_ends_at=now - timedelta(minutes=1)))
    after_the_window = composition.cart_priced(user_id=USER)

    assert (repriced.items[0].unit_price, repriced.subtotal) == (Decimal("40.00"), Decimal("80.00"))
    assert (discounted.items[0].unit_price, discounted.subtotal) == (Decimal("35.00"), Decimal("70.00"))
    assert (after_the_window.items[0].unit_price, after_the_window.subtotal) == (Decimal("40.00"), Decimal("80.00"))


def test_the_cart_shows_what_is_available_now_in_the_order_lines_were_added(rpc_mode):
    reserved, retired, plain = make_product(stock=5), make_product(stock=5), make_product(price="2.50", stock=9)
    for product in (plain, reserved, retired):
        composition.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=reserved.id, quantity=3)])
    products_service.product_update(product_id=retired.id, changes=ProductChanges(is_active=False))

    cart = composition.cart_priced(user_id=USER)
    assert [(line.product_id, line.available) for line in cart.items] == [
        (plain.id, 9), (reserved.id, 2), (retired.id, 0)]


def test_a_line_whose_product_left_the_catalog_is_not_shown_or_counted(rpc_mode):
    product = make_product(price="3.00")
    composition.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    carts_service.cart_item_add(user_id=USER, product_id=987_654, quantity=1, available=1)

    cart = composition.cart_priced(user_id=USER)

    assert [line.product_id for line in cart.items] == [product.id]
    assert (cart.total_quantity, cart.subtotal) == (2, Decimal("6.00"))


@pytest.mark.parametrize("lines", [1, 6])
def test_a_cart_asks_the_catalog_once_whatever_its_size_and_nothing_is_nested(rpc_mode, lines, settings):
    # Without the pricing cache, which would answer from what the adds read (test_cart_cache.py).
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 0
    products = [make_product() for _ in range(lines)]
    for product in products:
        composition.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    with spying_on_contracts() as spy:
        shown = composition.cart_priced(user_id=USER)
        added = composition.cart_item_add(user_id=USER, product_id=products[0].id, quantity=1)

    assert len(shown.items) == len(added.items) == lines
    assert spy.names == ["carts.cart_get", "products.product_get_many",
                         "products.product_get", "carts.cart_item_add", "products.product_get_many"]
    assert spy.nested == []


def test_an_empty_cart_costs_no_catalog_call(rpc_mode):
    with spying_on_contracts() as spy:
        cart = composition.cart_priced(user_id=USER)

    assert cart.items == []
    assert spy.names == ["carts.cart_get"]
