"""Every method of the carts contract, in-process and through the loopback RPC path (serialisation, signature,
internal endpoint), including the typed errors it raises crossing the wire."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ecommerce.contracts.carts import CartDTO, CartLineQuantity, carts_service
from ecommerce.contracts.products import DiscountType, ProductChanges, StockLine, products_service
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

USER = 301
OTHER_USER = 302


def quantities(cart: CartDTO) -> dict[int, int]:
    return {line.product_id: line.quantity for line in cart.items}


def test_cart_get_gives_an_empty_cart_to_a_new_user(rpc_mode, settings):
    cart = carts_service.cart_get(user_id=USER)

    assert cart.user_id == USER
    assert cart.items == []
    assert cart.total_quantity == 0
    assert cart.subtotal == Decimal("0.00")
    assert cart.currency == settings.ECOMMERCE_CURRENCY
    assert cart.updated_at is not None
    assert carts_service.cart_get(user_id=USER).updated_at == cart.updated_at


def test_cart_item_add_returns_the_priced_cart(rpc_mode, make_product):
    product = make_product(price="12.34", stock=7)

    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    cart = carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=1)

    [line] = cart.items
    assert (line.product_id, line.sku, line.name) == (product.id, product.sku, product.name)
    assert line.unit_price == Decimal("12.34")
    assert line.quantity == 3
    assert line.line_total == Decimal("37.02")
    assert line.available == 7
    assert cart.total_quantity == 3
    assert cart.subtotal == Decimal("37.02")
    assert carts_service.cart_get(user_id=OTHER_USER).items == []


def test_cart_item_add_errors_cross_the_wire(rpc_mode, make_product):
    product = make_product(stock=2)
    inactive = make_product()
    products_service.product_update(product_id=inactive.id, changes=ProductChanges(is_active=False))

    with pytest.raises(ValidationFailed) as invalid:
        carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=0)
    with pytest.raises(NotFound):
        carts_service.cart_item_add(user_id=USER, product_id=999_999, quantity=1)
    with pytest.raises(NotFound):
        carts_service.cart_item_add(user_id=USER, product_id=inactive.id, quantity=1)
    with pytest.raises(InsufficientStock) as short:
        carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=3)

    assert list(invalid.value.errors) == ["quantity"]
    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 3, "available": 2}]
    assert carts_service.cart_get(user_id=USER).items == []


def test_cart_item_set_quantity_sets_and_removes(rpc_mode, make_product):
    product, other = make_product(stock=9), make_product(stock=9)
    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    carts_service.cart_item_add(user_id=USER, product_id=other.id, quantity=1)

    changed = carts_service.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=6)
    removed = carts_service.cart_item_set_quantity(user_id=USER, product_id=other.id, quantity=0)

    assert quantities(changed) == {product.id: 6, other.id: 1}
    assert quantities(removed) == {product.id: 6}


def test_cart_item_set_quantity_errors_cross_the_wire(rpc_mode, make_product):
    product, absent = make_product(stock=3), make_product(stock=3)
    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=2)

    with pytest.raises(ValidationFailed) as invalid:
        carts_service.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=-1)
    with pytest.raises(NotFound):
        carts_service.cart_item_set_quantity(user_id=USER, product_id=absent.id, quantity=1)
    with pytest.raises(InsufficientStock) as short:
        carts_service.cart_item_set_quantity(user_id=USER, product_id=product.id, quantity=4)

    assert "quantity" in invalid.value.errors
    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 4, "available": 3}]
    assert quantities(carts_service.cart_get(user_id=USER)) == {product.id: 2}


def test_cart_item_remove(rpc_mode, make_product):
    product, other = make_product(), make_product()
    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    carts_service.cart_item_add(user_id=USER, product_id=other.id, quantity=2)

    cart = carts_service.cart_item_remove(user_id=USER, product_id=product.id)
    with pytest.raises(NotFound):
        carts_service.cart_item_remove(user_id=USER, product_id=product.id)

    assert quantities(cart) == {other.id: 2}


def test_cart_clear_is_idempotent_and_touches_only_that_cart(rpc_mode, make_product):
    product = make_product()
    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=1)
    carts_service.cart_item_add(user_id=OTHER_USER, product_id=product.id, quantity=1)

    assert carts_service.cart_clear(user_id=USER) is None
    carts_service.cart_clear(user_id=USER)

    assert carts_service.cart_get(user_id=USER).items == []
    assert quantities(carts_service.cart_get(user_id=OTHER_USER)) == {product.id: 1}


def test_cart_lines_checked_out_is_idempotent_and_keeps_lines_added_later(rpc_mode, make_product):
    bought, added_later = make_product(stock=9), make_product(stock=9)
    carts_service.cart_item_add(user_id=USER, product_id=bought.id, quantity=2)
    order_id = str(uuid.uuid4())
    ordered = [CartLineQuantity(product_id=bought.id, quantity=2)]
    carts_service.cart_item_add(user_id=USER, product_id=added_later.id, quantity=1)

    carts_service.cart_lines_checked_out(user_id=USER, order_id=order_id, lines=ordered)
    carts_service.cart_item_add(user_id=USER, product_id=bought.id, quantity=1)
    carts_service.cart_lines_checked_out(user_id=USER, order_id=order_id, lines=ordered)

    assert quantities(carts_service.cart_get(user_id=USER)) == {added_later.id: 1, bought.id: 1}


def test_cart_prices_follow_the_catalog_and_its_discount_window(rpc_mode, make_product):
    product = make_product(price="50.00", stock=5)
    carts_service.cart_item_add(user_id=USER, product_id=product.id, quantity=2)
    now = timezone.now()

    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_type=DiscountType.FIXED, discount_value=Decimal("5.00"),
        discount_starts_at=now - timedelta(minutes=5), discount_ends_at=now + timedelta(minutes=5)))
    discounted = carts_service.cart_get(user_id=USER)
    products_service.product_update(product_id=product.id, changes=ProductChanges(
        discount_ends_at=now - timedelta(minutes=1)))
    after_the_window = carts_service.cart_get(user_id=USER)

    assert (discounted.items[0].unit_price, discounted.subtotal) == (Decimal("45.00"), Decimal("90.00"))
    assert (after_the_window.items[0].unit_price, after_the_window.subtotal) == (Decimal("50.00"), Decimal("100.00"))


def test_cart_shows_what_is_available_now(rpc_mode, make_product):
    reserved, retired = make_product(stock=5), make_product(stock=5)
    carts_service.cart_item_add(user_id=USER, product_id=reserved.id, quantity=1)
    carts_service.cart_item_add(user_id=USER, product_id=retired.id, quantity=1)

    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=reserved.id, quantity=3)])
    products_service.product_update(product_id=retired.id, changes=ProductChanges(is_active=False))

    cart = carts_service.cart_get(user_id=USER)
    assert {line.product_id: line.available for line in cart.items} == {reserved.id: 2, retired.id: 0}
