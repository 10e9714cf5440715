"""Every method of the orders contract, called as other contexts call it, in-process and through the loopback
RPC path (serialisation, signing, the internal endpoint), including the typed errors crossing the wire."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.orders.models import CheckoutAttempt, Order
from apps.orders.tests.conftest import available, fill_cart
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import CheckoutResult, OrderDTO, OrderStatus, orders_service
from ecommerce.contracts.products import products_service
from ecommerce.errors import (
    CartCheckoutInProgress,
    IdempotencyConflict,
    IdempotencyInProgress,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    TooManyOpenOrders,
    ValidationFailed,
)


def _checkout(user, address, key="contract-key", fingerprint="fp") -> CheckoutResult:
    return orders_service.order_checkout(user_id=user.id, address_id=address.id, idempotency_key=key,
                                         request_fingerprint=fingerprint)


def test_checkout_returns_the_order_and_replays_it(rpc_mode, shopper, make_product):
    user, address = shopper
    product = make_product(price="12.34", stock=5, sku="CON-1", name="Contract thing")
    fill_cart(user.id, (product, 3))

    first = _checkout(user, address)
    again = _checkout(user, address)

    assert isinstance(first, CheckoutResult)
    assert first.replayed is False
    order = first.order
    assert isinstance(order, OrderDTO)
    assert order.status == OrderStatus.PENDING
    assert order.user_id == user.id
    assert [(i.product_id, i.sku, i.name, i.unit_price, i.quantity, i.line_total) for i in order.items] == [
        (product.id, "CON-1", "Contract thing", Decimal("12.34"), 3, Decimal("37.02"))]
    assert (order.subtotal, order.shipping_cost, order.discount, order.total) == (
        Decimal("37.02"), Decimal("5.00"), Decimal("0.00"), Decimal("42.02"))
    assert order.shipping_address.city == address.city
    assert order.payment_status is None
    assert again.replayed is True
    assert again.order == order
    assert available(product) == 2


def test_checkout_errors_cross_the_wire(rpc_mode, shopper, make_user, make_address, make_product):
    user, address = shopper
    # empty cart, replayed with the marker
    with pytest.raises(ValidationFailed) as empty:
        _checkout(user, address, key="empty")
    assert empty.value.errors == {"cart": ["Your cart is empty."]}
    with pytest.raises(ValidationFailed) as replayed:
        _checkout(user, address, key="empty")
    assert replayed.value.extra.get("replayed") is True
    # another user's address
    product = make_product(stock=2)
    fill_cart(user.id, (product, 2))
    with pytest.raises(NotFound):
        _checkout(user, make_address(make_user().id), key="stranger")
    # a short line
    products_service.product_stock_adjust(product_id=product.id, delta=-1)
    with pytest.raises(InsufficientStock) as short:
        _checkout(user, address, key="short")
    assert short.value.extra["lines"] == [{"product_id": product.id, "requested": 2, "available": 1}]
    # the same key with another body
    with pytest.raises(IdempotencyConflict):
        _checkout(user, address, key="short", fingerprint="another body")
    assert not Order.objects.exists()


def test_a_claimed_cart_and_the_open_order_cap_cross_the_wire(rpc_mode, shopper, make_product, settings):
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 1))
    running = uuid.uuid4()
    carts_service.cart_claim(user_id=user.id, order_id=running)

    with pytest.raises(CartCheckoutInProgress):
        _checkout(user, address, key="busy-cart")
    carts_service.cart_claim_release(order_id=running)
    made = _checkout(user, address, key="busy-cart")
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 1
    fill_cart(user.id, (product, 1))
    with pytest.raises(TooManyOpenOrders):
        _checkout(user, address, key="over-the-cap")

    assert made.replayed is False
    assert Order.objects.count() == 1
    assert available(product) == 4


def test_checkout_in_progress_crosses_the_wire(rpc_mode, shopper):
    user, address = shopper
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="busy", request_fingerprint="fp",
                                   order_id=uuid.uuid4())

    with pytest.raises(IdempotencyInProgress):
        _checkout(user, address, key="busy")


def test_list_is_newest_first_scoped_filtered_and_paged(rpc_mode, place_order, make_user, make_address,
                                                        make_product):
    first = place_order()
    second = place_order()
    third = place_order(OrderStatus.PAID)
    other = make_user()
    fill_cart(other.id, (make_product(), 1))
    theirs = _checkout(other, make_address(other.id)).order

    mine = orders_service.order_list(user_id=first.user_id)
    everyone = orders_service.order_list(user_id=None)
    pending = orders_service.order_list(user_id=first.user_id, status=OrderStatus.PENDING)
    page_two = orders_service.order_list(user_id=None, page=2, page_size=3)

    assert mine.count == 3
    assert [o.id for o in mine.results] == [third.id, second.id, first.id]
    assert [o.id for o in everyone.results] == [theirs.id, third.id, second.id, first.id]
    assert [o.id for o in pending.results] == [second.id, first.id]
    assert (page_two.count, [o.id for o in page_two.results]) == (4, [first.id])


def test_get_is_scoped_to_the_owner(rpc_mode, place_order, make_user):
    order = place_order()

    assert orders_service.order_get(order_id=order.id, user_id=order.user_id).id == order.id
    assert orders_service.order_get(order_id=order.id, user_id=None).id == order.id
    with pytest.raises(NotFound):
        orders_service.order_get(order_id=order.id, user_id=make_user().id)
    with pytest.raises(NotFound):
        orders_service.order_get(order_id=uuid.uuid4(), user_id=None)


def test_cancel_by_owner_and_staff_and_its_refusal(rpc_mode, place_order, make_user):
    mine = place_order()
    paid = place_order(OrderStatus.PAID)
    shipped = place_order(OrderStatus.SHIPPED)

    with pytest.raises(NotFound):
        orders_service.order_cancel(order_id=mine.id, user_id=make_user().id, actor_id=5)
    by_owner = orders_service.order_cancel(order_id=mine.id, user_id=mine.user_id, actor_id=mine.user_id)
    by_staff = orders_service.order_cancel(order_id=paid.id, user_id=None, actor_id=5)
    with pytest.raises(InvalidTransition) as refused:
        orders_service.order_cancel(order_id=shipped.id, user_id=None, actor_id=5)

    assert by_owner.status == OrderStatus.CANCELED
    assert (by_staff.status, by_staff.payment_status) == (OrderStatus.CANCELED, "refunded")
    assert refused.value.extra == {"from_status": "shipped", "to_status": "canceled"}


def test_transition_moves_along_the_machine_and_refuses_the_rest(rpc_mode, place_order):
    order = place_order()

    paid = orders_service.order_transition(order_id=order.id, status=OrderStatus.PAID, actor_id=5)
    with pytest.raises(InvalidTransition):
        orders_service.order_transition(order_id=order.id, status=OrderStatus.DELIVERED, actor_id=5)
    canceled = orders_service.order_transition(order_id=order.id, status=OrderStatus.CANCELED, actor_id=5)
    with pytest.raises(NotFound):
        orders_service.order_transition(order_id=uuid.uuid4(), status=OrderStatus.PAID, actor_id=5)

    assert (paid.status, paid.payment_status) == (OrderStatus.PAID, "succeeded")
    assert (canceled.status, canceled.payment_status) == (OrderStatus.CANCELED, "refunded")


def test_expire_unpaid_returns_how_many_were_canceled(rpc_mode, place_order, make_product):
    product = make_product(stock=4)
    old = place_order(product=product)
    Order.objects.filter(pk=old.id).update(created_at=timezone.now() - timedelta(days=1))

    assert orders_service.orders_expire_unpaid() == 1
    assert orders_service.orders_expire_unpaid() == 0
    assert available(product) == 4


def test_a_page_of_orders_costs_a_constant_number_of_queries(place_order, django_assert_max_num_queries):
    for _ in range(5):
        place_order()

    with django_assert_max_num_queries(2 + 1):  # count, orders, their lines
        page = orders_service.order_list(user_id=None, page_size=100)

    assert page.count == 5
    assert all(len(order.items) == 1 for order in page.results)


def test_a_shipment_crosses_the_wire_and_one_half_of_it_is_refused(rpc_mode, place_order):
    order = place_order()
    orders_service.order_transition(order_id=order.id, status=OrderStatus.PAID, actor_id=5)

    with pytest.raises(ValidationFailed) as refused:
        orders_service.order_transition(order_id=order.id, status=OrderStatus.SHIPPED, actor_id=5, carrier="UPS")
    with pytest.raises(ValidationFailed):
        orders_service.order_transition(order_id=order.id, status=OrderStatus.DELIVERED, actor_id=5, carrier="UPS",
                                        tracking_number="1Z")
    shipped = orders_service.order_transition(order_id=order.id, status=OrderStatus.SHIPPED, actor_id=5,
                                              carrier="DHL", tracking_number="JD0001")

    assert set(refused.value.errors) == {"tracking_number"}
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (OrderStatus.SHIPPED, "DHL", "JD0001")
    assert orders_service.order_get(order_id=order.id, user_id=None).tracking_number == "JD0001"
