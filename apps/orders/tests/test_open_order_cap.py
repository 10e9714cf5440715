"""The cap on unpaid orders per user: refused before anything is claimed or reserved, exact under races, off at 0."""

from __future__ import annotations

import pytest

from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import checkout as checkout_steps
from apps.orders.tests.conftest import ContractProxy, available, checkout, fill_cart
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import products_service
from ecommerce.errors import TooManyOpenOrders


def test_a_user_at_the_open_order_cap_is_refused_and_nothing_is_claimed_or_reserved(shopper, make_product, settings):
    # given a user holding as many unpaid orders as allowed, and a cart
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 2
    user, address = shopper
    product = make_product(stock=10)
    for _ in range(2):
        fill_cart(user.id, (product, 1))
        checkout(user, address)
    fill_cart(user.id, (product, 3))

    # when the user checks out again
    with pytest.raises(TooManyOpenOrders) as refused:
        checkout(user, address, key="over-the-cap")

    # then it is refused with the cap named, the cart stays whole, nothing more is reserved, the answer is kept
    assert "at most 2 unpaid orders" in refused.value.detail
    assert [(line.product_id, line.quantity) for line in carts_service.cart_get(user_id=user.id).items] == [
        (product.id, 3)]
    assert available(product) == 8
    assert Order.objects.count() == 2
    with pytest.raises(TooManyOpenOrders) as replayed:
        checkout(user, address, key="over-the-cap")
    assert replayed.value.extra["replayed"] is True


def test_orders_no_longer_unpaid_do_not_count_against_the_cap(shopper, make_product, settings):
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 1
    user, address = shopper
    product = make_product(stock=10)
    fill_cart(user.id, (product, 1))
    first = checkout(user, address).order
    services.order_transition(order_id=first.id, status="paid", actor_id=1)
    fill_cart(user.id, (product, 1))
    second = checkout(user, address).order
    services.order_cancel(order_id=second.id, user_id=user.id, actor_id=user.id)
    fill_cart(user.id, (product, 1))

    third = checkout(user, address).order

    assert third.status == "pending"
    assert Order.objects.filter(user_id=user.id).count() == 3


def test_no_cap_when_it_is_set_to_zero(shopper, make_product, settings):
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 0
    user, address = shopper
    product = make_product(stock=10)
    for _ in range(7):
        fill_cart(user.id, (product, 1))
        checkout(user, address)

    assert Order.objects.filter(user_id=user.id, status="pending").count() == 7


def test_a_checkout_that_raced_past_the_cap_is_refused_when_it_writes_and_gives_everything_back(
        shopper, make_product, settings, monkeypatch):
    # given a cap of one, and another checkout of the same user that writes its order while this one is pricing
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 1
    user, address = shopper
    product = make_product(stock=10)
    fill_cart(user.id, (product, 2))

    def price_while_another_order_is_written(**arguments):
        Order.objects.create(user_id=user.id, number="ORD-20300101-RACE2345", subtotal=0, shipping_cost=0,
                             discount=0, total=0, currency="USD", shipping_full_name="x", shipping_street="x",
                             shipping_city="x", shipping_zip_code="x", shipping_country="GB")
        return products_service.product_lines_price(**arguments)

    monkeypatch.setattr(checkout_steps, "products_service",
                        ContractProxy(products_service, product_lines_price=price_while_another_order_is_written))

    # when this checkout comes to write its order
    with pytest.raises(TooManyOpenOrders):
        checkout(user, address)

    # then it writes nothing and gives back the cart lines and the stock it took
    assert Order.objects.filter(user_id=user.id).count() == 1
    assert available(product) == 10
    assert [(line.product_id, line.quantity) for line in carts_service.cart_get(user_id=user.id).items] == [
        (product.id, 2)]
