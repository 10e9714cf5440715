"""The checkout saga: what an order is made of, what a refusal or a failure leaves behind (nothing: the cart is
whole again and no stock is held), and the work finished after the order is durable."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.orders import services
from apps.orders.models import CheckoutAttempt, Order, OrderStatusChange
from apps.orders.services import checkout as checkout_steps
from apps.orders.services import followups
from apps.orders.tests.conftest import ContractProxy, available, checkout, fail_once, fill_cart
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import DiscountType, ProductChanges, products_service
from ecommerce.contracts.users import users_service
from ecommerce.errors import InsufficientStock, NotFound, ServiceUnavailable, ValidationFailed
from ecommerce.events.models import OutboxEvent
from ecommerce.money import MAX_AMOUNT


def test_checkout_makes_a_pending_order_from_the_cart(shopper, make_product):
    # given a cart with two lines
    user, address = shopper
    lamp = make_product(price="10.00", stock=10, name="Desk lamp", sku="LAMP-1")
    bulb = make_product(price="7.50", stock=3, name="Bulb", sku="BULB-1")
    fill_cart(user.id, (lamp, 2), (bulb, 1))

    # when the user checks out
    outcome = checkout(user, address, key="key-1")

    # then the order copies lines, prices and the address, and totals add up
    order = outcome.order
    assert outcome.replayed is False
    assert re.fullmatch(r"ORD-\d{8}-[2-9A-Z]{8}", order.number)
    assert order.user_id == user.id
    assert order.status == "pending"
    assert order.payment_status is None
    assert order.currency == "USD"
    assert [(line.sku, line.name, line.unit_price, line.quantity, line.line_total) for line in order.lines.all()] == [
        ("LAMP-1", "Desk lamp", Decimal("10.00"), 2, Decimal("20.00")),
        ("BULB-1", "Bulb", Decimal("7.50"), 1, Decimal("7.50")),
    ]
    assert (order.subtotal, order.shipping_cost, order.discount, order.total) == (
        Decimal("27.50"), Decimal("5.00"), Decimal("0.00"), Decimal("32.50"))
    assert (order.shipping_full_name, order.shipping_street, order.shipping_city, order.shipping_zip_code,
            order.shipping_country, order.shipping_phone) == (
        address.full_name, address.street, address.city, address.zip_code, address.country, address.phone)
    # and the stock is held, the cart emptied, the history and the event written
    assert (available(lamp), available(bulb)) == (8, 2)
    assert carts_service.cart_get(user_id=user.id).items == []
    history = list(OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status", "actor_id"))
    assert history == [(None, "pending", user.id)]
    event = OutboxEvent.objects.get(type="order.created")
    assert event.data["order_id"] == str(order.id)
    assert event.data["total"] == "32.50"
    assert [line["sku"] for line in event.data["lines"]] == ["LAMP-1", "BULB-1"]
    attempt = CheckoutAttempt.objects.get(user_id=user.id, idempotency_key="key-1")
    assert (attempt.state, attempt.order_id) == ("succeeded", order.id)


def test_checkout_prices_lines_at_the_effective_price_inside_the_discount_window(shopper, make_product):
    # given one product discounted now, one whose discount has not started and one whose discount is over
    user, address = shopper
    now = timezone.now()
    on_sale = make_product(price="40.00", discount_type=DiscountType.PERCENT, discount_value=Decimal("25"),
                           discount_starts_at=now - timedelta(days=1), discount_ends_at=now + timedelta(days=1))
    not_yet = make_product(price="10.00", discount_type=DiscountType.FIXED, discount_value=Decimal("3"),
                           discount_starts_at=now + timedelta(days=1))
    over = make_product(price="5.00", discount_type=DiscountType.FIXED, discount_value=Decimal("1"),
                        discount_ends_at=now - timedelta(hours=1))
    fill_cart(user.id, (on_sale, 1), (not_yet, 2), (over, 3))

    # when the user checks out
    order = checkout(user, address).order

    # then only the live discount applies, and the order's own discount stays zero
    prices = {line.product_id: (line.unit_price, line.line_total) for line in order.lines.all()}
    assert prices == {
        on_sale.id: (Decimal("30.00"), Decimal("30.00")),
        not_yet.id: (Decimal("10.00"), Decimal("20.00")),
        over.id: (Decimal("5.00"), Decimal("15.00")),
    }
    assert (order.subtotal, order.discount, order.shipping_cost, order.total) == (
        Decimal("65.00"), Decimal("0.00"), Decimal("5.00"), Decimal("70.00"))


@pytest.mark.parametrize(("quantity", "shipping", "total"), [
    (4, Decimal("7.25"), Decimal("47.21")),  # subtotal 39.96: below the threshold
    (5, Decimal("0.00"), Decimal("49.95")),  # subtotal 49.95: exactly the threshold
])
def test_shipping_is_free_from_the_threshold(shopper, make_product, settings, quantity, shipping, total):
    # given flat shipping of 7.25, free from 49.95
    settings.ECOMMERCE_SHIPPING_FLAT = "7.25"
    settings.ECOMMERCE_FREE_SHIPPING_FROM = "49.95"
    user, address = shopper
    fill_cart(user.id, (make_product(price="9.99", stock=10), quantity))

    # when the user checks out
    order = checkout(user, address).order

    # then shipping is charged below the threshold and free from it (inclusive)
    assert order.shipping_cost == shipping
    assert order.total == total


def test_empty_cart_is_refused_and_the_refusal_is_replayed(shopper):
    user, address = shopper

    with pytest.raises(ValidationFailed) as refused:
        checkout(user, address, key="empty")

    assert refused.value.errors == {"cart": ["Your cart is empty."]}
    assert not Order.objects.exists()
    # the same request again gets the same answer, marked as a replay
    with pytest.raises(ValidationFailed) as replayed:
        checkout(user, address, key="empty")
    assert replayed.value.errors == {"cart": ["Your cart is empty."]}
    assert replayed.value.extra["replayed"] is True
    assert "replayed" not in refused.value.extra


def test_a_total_too_large_for_an_order_is_refused_before_anything_is_reserved(shopper, make_product):
    # given a cart whose total exceeds what an order can record (found by fuzzing: it was a database error, a 500)
    user, address = shopper
    dear = make_product(price="9999999999.99", stock=5)
    fill_cart(user.id, (dear, 2))

    # when the user checks out
    with pytest.raises(ValidationFailed) as refused:
        checkout(user, address, key="too-dear")

    # then it is a validation error naming the cart, and nothing was written or reserved
    assert list(refused.value.errors) == ["cart"]
    assert "9999999999.99" in refused.value.errors["cart"][0]
    assert not Order.objects.exists()
    assert available(dear) == 5
    assert {line.product_id: line.quantity for line in carts_service.cart_get(user_id=user.id).items} == {dear.id: 2}
    assert not OutboxEvent.objects.filter(type="order.created").exists()


def test_the_largest_total_an_order_holds_is_accepted(shopper, make_product):
    # given a cart whose total (shipping is free at this size) is exactly the largest amount an order can record
    user, address = shopper
    product = make_product(price=str(MAX_AMOUNT), stock=1)
    fill_cart(user.id, (product, 1))

    # when the user checks out, then the order is written with that total
    order = checkout(user, address).order
    assert order.total == Decimal("9999999999.99")


def test_another_users_address_is_not_found_and_nothing_is_reserved(shopper, make_user, make_address, make_product):
    user, _ = shopper
    strangers_address = make_address(make_user().id)
    product = make_product(stock=4)
    fill_cart(user.id, (product, 1))

    with pytest.raises(NotFound):
        checkout(user, strangers_address)

    assert available(product) == 4
    assert not Order.objects.exists()
    assert len(carts_service.cart_get(user_id=user.id).items) == 1


def test_a_short_line_is_named_and_nothing_is_reserved(shopper, make_product):
    # given a cart whose second line became short after it was added
    user, address = shopper
    plenty = make_product(stock=10)
    scarce = make_product(stock=5)
    fill_cart(user.id, (plenty, 2), (scarce, 3))
    products_service.product_stock_adjust(product_id=scarce.id, delta=-4)

    # when the user checks out
    with pytest.raises(InsufficientStock) as short:
        checkout(user, address, key="short")

    # then the short line is named, nothing is reserved, the cart is intact, the answer is kept for a replay
    assert short.value.extra["lines"] == [{"product_id": scarce.id, "requested": 3, "available": 1}]
    assert (available(plenty), available(scarce)) == (10, 1)
    assert not Order.objects.exists()
    assert len(carts_service.cart_get(user_id=user.id).items) == 2
    assert CheckoutAttempt.objects.get(idempotency_key="short").state == "failed"
    with pytest.raises(InsufficientStock) as replayed:
        checkout(user, address, key="short")
    assert replayed.value.extra["lines"] == short.value.extra["lines"]
    assert replayed.value.extra["replayed"] is True


def test_a_product_no_longer_sold_is_a_short_line_with_nothing_available(shopper, make_product):
    user, address = shopper
    kept = make_product(stock=3)
    withdrawn = make_product(stock=3)
    fill_cart(user.id, (kept, 1), (withdrawn, 2))
    products_service.product_update(product_id=withdrawn.id, changes=ProductChanges(is_active=False))

    with pytest.raises(InsufficientStock) as short:
        checkout(user, address)

    assert short.value.extra["lines"] == [{"product_id": withdrawn.id, "requested": 2, "available": 0}]
    assert available(kept) == 3
    assert not Order.objects.exists()


# --- failures after the reservation -------------------------------------------------------------------------------

def test_a_failed_order_write_releases_the_stock_and_frees_the_key(shopper, make_product, monkeypatch):
    # given the order write fails half way (after the order row, before the event)
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))

    def broken_outbox(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(checkout_steps, "record_event", broken_outbox)

    # when the user checks out
    with pytest.raises(RuntimeError):
        checkout(user, address, key="retry-me")

    # then nothing is left: no order, no reservation, the cart intact, the key free
    assert not Order.objects.exists()
    assert not OrderStatusChange.objects.exists()
    assert available(product) == 5
    assert len(carts_service.cart_get(user_id=user.id).items) == 1
    assert not CheckoutAttempt.objects.exists()
    # and a retry with the same key goes through
    monkeypatch.undo()
    outcome = checkout(user, address, key="retry-me")
    assert outcome.replayed is False
    assert available(product) == 3


def test_an_unavailable_service_is_not_stored_as_the_answer(shopper, make_product, monkeypatch):
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 1))
    flaky_recipient = fail_once(users_service.checkout_recipient,
                                ServiceUnavailable("The users service is unavailable."))
    monkeypatch.setattr(checkout_steps, "users_service",
                        ContractProxy(users_service, checkout_recipient=flaky_recipient))

    with pytest.raises(ServiceUnavailable):
        checkout(user, address, key="flaky")

    assert not CheckoutAttempt.objects.exists()
    assert available(product) == 5
    assert checkout(user, address, key="flaky").replayed is False


def test_a_failing_reservation_call_is_compensated(shopper, make_product, monkeypatch):
    # given the catalog reserved the stock but its answer was lost on the way back
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))

    def reserve_then_time_out(**arguments):
        products_service.stock_reserve(**arguments)
        raise ServiceUnavailable("The products service is unavailable.")

    monkeypatch.setattr(checkout_steps, "products_service",
                        ContractProxy(products_service, stock_reserve=reserve_then_time_out))

    with pytest.raises(ServiceUnavailable):
        checkout(user, address)

    assert available(product) == 5
    assert not Order.objects.exists()


def test_a_failing_cart_clean_up_does_not_fail_the_order(shopper, make_product, monkeypatch):
    # given the carts service fails once right after the order is written
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    flaky = fail_once(carts_service.cart_claim_complete, ServiceUnavailable("carts down"))
    monkeypatch.setattr(followups, "carts_service", ContractProxy(carts_service, cart_claim_complete=flaky))

    # when the user checks out
    outcome = checkout(user, address)

    # then the order stands, and the follow-up sweep finished the clean-up
    assert Order.objects.get().id == outcome.order.id
    assert Order.objects.get().followup_pending is True
    services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))
    assert len(flaky.calls) == 2
    assert Order.objects.get().followup_pending is False
    assert carts_service.cart_get(user_id=user.id).items == []
    assert available(product) == 3


def test_a_failing_confirmation_does_not_fail_the_order(shopper, make_product, monkeypatch):
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 1))

    def confirm_down(**arguments):
        raise ServiceUnavailable("products down")

    monkeypatch.setattr(followups, "products_service",
                        ContractProxy(products_service, stock_reservation_confirm=confirm_down))

    outcome = checkout(user, address)

    assert outcome.order.status == "pending"
    assert Order.objects.count() == 1
    assert carts_service.cart_get(user_id=user.id).items == []
    assert available(product) == 4


def test_a_failed_checkout_gives_the_cart_back_merged_with_what_was_added_meanwhile(shopper, make_product,
                                                                                   monkeypatch):
    # given a checkout that finds a line short, while the shopper adds to the cart in another tab
    user, address = shopper
    lamp, bulb = make_product(stock=10), make_product(stock=1)
    fill_cart(user.id, (lamp, 2), (bulb, 1))
    products_service.product_stock_adjust(product_id=bulb.id, delta=-1)

    def reserve_while_the_shopper_adds(**arguments):
        fill_cart(user.id, (lamp, 3))
        return products_service.stock_reserve(**arguments)

    monkeypatch.setattr(checkout_steps, "products_service",
                        ContractProxy(products_service, stock_reserve=reserve_while_the_shopper_adds))

    # when the checkout fails
    with pytest.raises(InsufficientStock):
        checkout(user, address)

    # then the claimed lines are back in the cart, merged with the new one, and nothing is reserved
    cart = carts_service.cart_get(user_id=user.id)
    assert [(line.product_id, line.quantity) for line in cart.items] == [(lamp.id, 5), (bulb.id, 1)]
    assert available(lamp) == 10


def test_a_line_no_longer_sold_gives_the_whole_cart_back(shopper, make_product):
    user, address = shopper
    kept, withdrawn = make_product(stock=3), make_product(stock=3)
    fill_cart(user.id, (kept, 1), (withdrawn, 2))
    products_service.product_update(product_id=withdrawn.id, changes=ProductChanges(is_active=False))

    with pytest.raises(InsufficientStock):
        checkout(user, address)

    assert {line.product_id: line.quantity for line in carts_service.cart_get(user_id=user.id).items} == {
        kept.id: 1, withdrawn.id: 2}


def test_a_clashing_order_number_is_drawn_again(shopper, make_product, monkeypatch):
    # given the first number drawn is already taken
    user, address = shopper
    fill_cart(user.id, (make_product(), 1))
    taken = checkout(user, address).order.number
    draws = iter([taken, "ORD-20300101-FRESH234"])
    monkeypatch.setattr(checkout_steps, "order_number_generate", lambda now: next(draws))
    fill_cart(user.id, (make_product(), 1))

    order = checkout(user, address).order

    assert order.number == "ORD-20300101-FRESH234"
    assert Order.objects.count() == 2
