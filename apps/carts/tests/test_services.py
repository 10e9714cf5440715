"""Services and selectors of the carts context, called directly (the catalog is served in-process)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.carts import selectors, services
from apps.carts.models import Cart, CartCheckout, CartItem
from ecommerce.contracts.carts import CartLineQuantity
from ecommerce.contracts.products import DiscountType, ProductChanges, StockLine, products_service
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

USER = 101
OTHER_USER = 202


def lines_of(user_id: int) -> dict[int, int]:
    return dict(CartItem.objects.filter(cart__user_id=user_id).values_list("product_id", "quantity"))


# --- the cart itself ---------------------------------------------------------------------------------------------

def test_a_user_gets_one_cart_made_on_first_use():
    first = services.cart_get_or_create(user_id=USER)
    second = services.cart_get_or_create(user_id=USER)

    assert first.pk == second.pk
    assert Cart.objects.filter(user_id=USER).count() == 1


def test_the_database_refuses_a_second_cart_for_one_user():
    Cart.objects.create(user_id=USER)

    with pytest.raises(IntegrityError), transaction.atomic():
        Cart.objects.create(user_id=USER)


def test_the_database_refuses_a_line_without_quantity_or_a_duplicate_line():
    cart = Cart.objects.create(user_id=USER)
    CartItem.objects.create(cart=cart, product_id=1, quantity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartItem.objects.create(cart=cart, product_id=2, quantity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        CartItem.objects.create(cart=cart, product_id=1, quantity=3)


# --- adding ------------------------------------------------------------------------------------------------------

def test_adding_makes_a_line_and_adding_again_adds_to_it(make_product):
    product = make_product(stock=10)

    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    cart = services.cart_item_add(user_id=USER, product_id=product.id, quantity=3)

    assert lines_of(USER) == {product.id: 5}
    assert cart.user_id == USER


def test_adding_moves_the_cart_timestamp(make_product):
    product = make_product()
    cart = services.cart_get_or_create(user_id=USER)
    before = cart.updated_at

    services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    cart.refresh_from_db()
    assert cart.updated_at > before


@pytest.mark.parametrize("quantity", [0, -1, services.MAX_LINE_QUANTITY + 1])
def test_adding_a_quantity_out_of_range_is_refused_and_writes_nothing(make_product, quantity):
    product = make_product(stock=5000)

    with pytest.raises(ValidationFailed) as error:
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=quantity)

    assert "quantity" in error.value.errors
    assert not Cart.objects.exists()
    assert not CartItem.objects.exists()


def test_a_line_can_never_grow_past_the_maximum(make_product):
    product = make_product(stock=5000)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=services.MAX_LINE_QUANTITY)

    with pytest.raises(ValidationFailed):
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    assert lines_of(USER) == {product.id: services.MAX_LINE_QUANTITY}


@pytest.mark.parametrize("product_id", [999_999, 0, -5, 2**70])
def test_adding_an_unknown_product_is_not_found_and_writes_nothing(product_id):
    with pytest.raises(NotFound):
        services.cart_item_add(user_id=USER, product_id=product_id, quantity=1)

    assert not Cart.objects.exists()


def test_adding_an_inactive_product_is_not_found(make_product):
    product = make_product()
    products_service.product_update(product_id=product.id, changes=ProductChanges(is_active=False))

    with pytest.raises(NotFound):
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    assert not CartItem.objects.exists()


def test_adding_more_than_available_names_the_line_and_changes_nothing(make_product):
    product = make_product(stock=5)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=4)

    with pytest.raises(InsufficientStock) as error:
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    assert error.value.extra["lines"] == [{"product_id": product.id, "requested": 6, "available": 5}]
    assert lines_of(USER) == {product.id: 4}


def test_stock_reserved_by_orders_is_not_available_to_carts(make_product):
    product = make_product(stock=5)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.id, quantity=4)])

    with pytest.raises(InsufficientStock) as error:
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    assert error.value.extra["lines"] == [{"product_id": product.id, "requested": 2, "available": 1}]


# --- setting a quantity ------------------------------------------------------------------------------------------

def test_setting_a_quantity_replaces_it(make_product):
    product = make_product(stock=10)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=7)

    assert lines_of(USER) == {product.id: 7}


def test_setting_zero_removes_the_line(make_product):
    product, other = make_product(), make_product()
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    services.cart_item_add(user_id=USER, product_id=other.id, quantity=1)

    services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=0)

    assert lines_of(USER) == {other.id: 1}


@pytest.mark.parametrize("quantity", [-1, services.MAX_LINE_QUANTITY + 1])
def test_setting_a_quantity_out_of_range_is_refused(make_product, quantity):
    product = make_product(stock=5000)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    with pytest.raises(ValidationFailed) as error:
        services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=quantity)

    assert "quantity" in error.value.errors
    assert lines_of(USER) == {product.id: 2}


@pytest.mark.parametrize("quantity", [0, 1])
def test_setting_the_quantity_of_a_product_not_in_the_cart_is_not_found(make_product, quantity):
    product = make_product()
    services.cart_item_add(user_id=OTHER_USER, product_id=product.id, quantity=1)

    with pytest.raises(NotFound):
        services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=quantity)

    assert lines_of(USER) == {}
    assert lines_of(OTHER_USER) == {product.id: 1}


def test_setting_more_than_available_changes_nothing(make_product):
    product = make_product(stock=3)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    with pytest.raises(InsufficientStock) as error:
        services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=4)

    assert error.value.extra["lines"] == [{"product_id": product.id, "requested": 4, "available": 3}]
    assert lines_of(USER) == {product.id: 2}


def test_a_line_of_a_product_no_longer_sold_can_only_be_removed(make_product):
    product = make_product(stock=3)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    products_service.product_update(product_id=product.id, changes=ProductChanges(is_active=False))

    with pytest.raises(InsufficientStock):
        services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=1)
    services.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=0)

    assert lines_of(USER) == {}


# --- removing and clearing ---------------------------------------------------------------------------------------

def test_removing_a_line_leaves_the_others(make_product):
    product, other = make_product(), make_product()
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    services.cart_item_add(user_id=USER, product_id=other.id, quantity=1)

    services.cart_item_remove(user_id=USER, product_id=product.id)

    assert lines_of(USER) == {other.id: 1}


def test_removing_a_product_not_in_the_cart_is_not_found(make_product):
    product = make_product()
    services.cart_item_add(user_id=OTHER_USER, product_id=product.id, quantity=1)

    with pytest.raises(NotFound):
        services.cart_item_remove(user_id=USER, product_id=product.id)

    assert lines_of(OTHER_USER) == {product.id: 1}


def test_clearing_empties_only_that_cart_and_can_be_repeated(make_product):
    product = make_product()
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    services.cart_item_add(user_id=OTHER_USER, product_id=product.id, quantity=1)

    services.cart_clear(user_id=USER)
    services.cart_clear(user_id=USER)

    assert lines_of(USER) == {}
    assert lines_of(OTHER_USER) == {product.id: 1}


def test_clearing_a_cart_never_used_makes_none():
    services.cart_clear(user_id=USER)

    assert not Cart.objects.exists()


# --- checkout ----------------------------------------------------------------------------------------------------

def test_checkout_takes_the_ordered_quantities_once_and_keeps_what_was_added_meanwhile(make_product):
    bought, kept, added_later = make_product(stock=10), make_product(stock=10), make_product(stock=10)
    services.cart_item_add(user_id=USER, product_id=bought.id, quantity=2)
    services.cart_item_add(user_id=USER, product_id=kept.id, quantity=3)
    order_id = str(uuid.uuid4())
    ordered = [CartLineQuantity(product_id=bought.id, quantity=2), CartLineQuantity(product_id=kept.id, quantity=1)]
    # The shopper keeps shopping while the order is being placed.
    services.cart_item_add(user_id=USER, product_id=kept.id, quantity=1)
    services.cart_item_add(user_id=USER, product_id=added_later.id, quantity=1)

    services.cart_lines_checked_out(user_id=USER, order_id=order_id, lines=ordered)
    services.cart_lines_checked_out(user_id=USER, order_id=order_id, lines=ordered)

    assert lines_of(USER) == {kept.id: 3, added_later.id: 1}
    assert CartCheckout.objects.filter(order_id=order_id, user_id=USER).count() == 1


def test_checkout_of_more_than_the_line_holds_deletes_the_line(make_product):
    product = make_product(stock=10)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    services.cart_lines_checked_out(
        user_id=USER, order_id=str(uuid.uuid4()), lines=[CartLineQuantity(product_id=product.id, quantity=4)]
    )

    assert lines_of(USER) == {}


def test_checkout_without_a_cart_is_still_recorded():
    order_id = str(uuid.uuid4())

    services.cart_lines_checked_out(user_id=USER, order_id=order_id, lines=[CartLineQuantity(product_id=1, quantity=1)])

    assert CartCheckout.objects.filter(order_id=order_id).exists()
    assert not Cart.objects.exists()


# --- pricing -----------------------------------------------------------------------------------------------------

def test_a_cart_is_priced_from_the_catalog_in_added_order(make_product):
    cheap, dear = make_product(price="2.50", stock=9), make_product(price="19.99", stock=4)
    services.cart_item_add(user_id=USER, product_id=dear.id, quantity=2)
    services.cart_item_add(user_id=USER, product_id=cheap.id, quantity=3)

    priced = selectors.cart_priced(cart=services.cart_get_or_create(user_id=USER))

    assert [(line.product_id, line.quantity) for line in priced.lines] == [(dear.id, 2), (cheap.id, 3)]
    assert priced.lines[0].sku == dear.sku
    assert priced.lines[0].name == dear.name
    assert priced.lines[0].unit_price == Decimal("19.99")
    assert priced.lines[0].line_total == Decimal("39.98")
    assert priced.lines[0].available == 4
    assert priced.lines[1].line_total == Decimal("7.50")
    assert priced.total_quantity == 5
    assert priced.subtotal == Decimal("47.48")


def test_pricing_asks_the_catalog_once_whatever_the_number_of_lines(make_product, products_calls):
    products = [make_product() for _ in range(6)]
    for product in products:
        services.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    products_calls.calls.clear()

    priced = selectors.cart_priced(cart=services.cart_get_or_create(user_id=USER))

    assert len(priced.lines) == 6
    assert products_calls.calls == ["product_get_many"]


def test_an_empty_cart_costs_no_catalog_call(products_calls):
    priced = selectors.cart_priced(cart=services.cart_get_or_create(user_id=USER))

    assert priced.lines == []
    assert priced.subtotal == Decimal("0.00")
    assert products_calls.calls == []


def test_prices_follow_the_catalog_including_a_discount_window(make_product):
    product = make_product(price="40.00", stock=5)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    cart = services.cart_get_or_create(user_id=USER)
    now = timezone.now()

    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("30.00")))
    assert selectors.cart_priced(cart=cart).subtotal == Decimal("60.00")

    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_type=DiscountType.PERCENT, discount_value=Decimal("10"),
        discount_starts_at=now - timedelta(hours=1), discount_ends_at=now + timedelta(hours=1)))
    priced = selectors.cart_priced(cart=cart)
    assert priced.lines[0].unit_price == Decimal("27.00")
    assert priced.subtotal == Decimal("54.00")

    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_starts_at=now + timedelta(days=1), discount_ends_at=now + timedelta(days=2)))
    assert selectors.cart_priced(cart=cart).lines[0].unit_price == Decimal("30.00")


def test_a_product_no_longer_sold_shows_nothing_available(make_product):
    product = make_product(stock=5)
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    products_service.product_update(product_id=product.id, changes=ProductChanges(is_active=False))

    priced = selectors.cart_priced(cart=services.cart_get_or_create(user_id=USER))

    assert [(line.product_id, line.available) for line in priced.lines] == [(product.id, 0)]


def test_a_line_whose_product_left_the_catalog_is_not_shown(make_product):
    product = make_product(price="3.00")
    services.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    cart = services.cart_get_or_create(user_id=USER)
    CartItem.objects.create(cart=cart, product_id=987_654, quantity=1)

    priced = selectors.cart_priced(cart=cart)

    assert [line.product_id for line in priced.lines] == [product.id]
    assert priced.total_quantity == 2
    assert priced.subtotal == Decimal("6.00")
