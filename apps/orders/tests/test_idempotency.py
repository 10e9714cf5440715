"""Idempotency keys of checkout: one key makes at most one checkout, its first answer is replayed verbatim, a dead
attempt is taken over with what it held, and keys expire."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders import services
from apps.orders.models import CheckoutAttempt, Order
from apps.orders.services import checkout as checkout_steps
from apps.orders.tests.conftest import ContractProxy, available, checkout, fill_cart
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import StockLine, products_service
from ecommerce.errors import IdempotencyConflict, IdempotencyInProgress
from tests.contract_spy import spying_on_contracts


def test_the_same_key_and_request_replays_the_order(shopper, make_product):
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    first = checkout(user, address, key="same")

    again = checkout(user, address, key="same")

    assert again.replayed is True
    assert again.order.id == first.order.id
    assert Order.objects.count() == 1
    assert available(product) == 3


def test_the_same_key_with_another_request_is_a_conflict(shopper, make_product):
    user, address = shopper
    fill_cart(user.id, (make_product(), 1))
    checkout(user, address, key="k", fingerprint="body-a")

    with pytest.raises(IdempotencyConflict):
        checkout(user, address, key="k", fingerprint="body-b")

    assert Order.objects.count() == 1


def test_keys_belong_to_one_user(shopper, make_user, make_address, make_product):
    user, address = shopper
    other = make_user()
    other_address = make_address(other.id)
    fill_cart(user.id, (make_product(), 1))
    fill_cart(other.id, (make_product(), 1))

    mine = checkout(user, address, key="shared-key").order
    theirs = checkout(other, other_address, key="shared-key").order

    assert mine.id != theirs.id
    assert (mine.user_id, theirs.user_id) == (user.id, other.id)


def test_a_key_still_in_progress_answers_in_progress(shopper, make_product):
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 1))
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="busy", request_fingerprint="fingerprint-1",
                                   order_id=uuid.uuid4())

    with pytest.raises(IdempotencyInProgress):
        checkout(user, address, key="busy")

    assert not Order.objects.exists()
    assert available(product) == 5


def test_a_stale_attempt_is_taken_over_and_its_reservation_given_back(shopper, make_product):
    # given an attempt whose process died after reserving stock a while ago
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    dead_order_id = uuid.uuid4()
    products_service.stock_reserve(order_id=dead_order_id, lines=[StockLine(product_id=product.id, quantity=2)])
    long_ago = timezone.now() - timedelta(seconds=services.STALE_ATTEMPT_SECONDS + 5)
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="stale", request_fingerprint="fingerprint-1",
                                   order_id=dead_order_id, created_at=long_ago, updated_at=long_ago)
    assert available(product) == 3

    # when the client retries with the same key
    outcome = checkout(user, address, key="stale")

    # then the retry makes the one order, and only its own reservation holds stock (3 = 5 - 2, not 5 - 2 - 2)
    assert outcome.replayed is False
    assert outcome.order.id != dead_order_id
    assert available(product) == 3
    attempt = CheckoutAttempt.objects.get(idempotency_key="stale")
    assert (attempt.state, attempt.order_id) == ("succeeded", outcome.order.id)


def test_a_stale_attempt_that_claimed_the_cart_is_taken_over_within_six_contract_calls(shopper, make_product):
    # given an attempt whose process died after claiming the cart and reserving its stock
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    dead_order_id = uuid.uuid4()
    carts_service.cart_claim(user_id=user.id, order_id=dead_order_id)
    products_service.stock_reserve(order_id=dead_order_id, lines=[StockLine(product_id=product.id, quantity=2)])
    long_ago = timezone.now() - timedelta(seconds=services.STALE_ATTEMPT_SECONDS + 5)
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="stale", request_fingerprint="fingerprint-1",
                                   order_id=dead_order_id, created_at=long_ago, updated_at=long_ago)

    # when the client retries with the same key
    with spying_on_contracts() as spy:
        outcome = checkout(user, address, key="stale")

    # then the retry takes the dead attempt's cart lines and stock over, in as many calls as any checkout
    assert [(line.product_id, line.quantity) for line in outcome.order.lines.all()] == [(product.id, 2)]
    assert available(product) == 3
    assert spy.names == ["users.checkout_recipient", "carts.cart_claim", "products.product_lines_price",
                         "products.stock_reserve", "products.stock_reservation_confirm", "carts.cart_claim_complete"]
    assert spy.nested == []
    # and nothing of the dead attempt comes back later
    carts_service.cart_claim_release(order_id=dead_order_id)
    products_service.stock_release(order_id=dead_order_id)
    assert carts_service.cart_get(user_id=user.id).items == []
    assert available(product) == 3


def test_a_claimant_that_lost_its_attempt_writes_no_order(shopper, make_product, monkeypatch):
    # given a slow checkout whose attempt is taken over while it reserves stock
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    taker_order_id = uuid.uuid4()

    def reserve_then_lose_the_attempt(**arguments):
        products_service.stock_reserve(**arguments)
        CheckoutAttempt.objects.filter(idempotency_key="slow").update(order_id=taker_order_id)

    monkeypatch.setattr(checkout_steps, "products_service",
                        ContractProxy(products_service, stock_reserve=reserve_then_lose_the_attempt))

    # when it tries to write its order
    with pytest.raises(IdempotencyInProgress):
        checkout(user, address, key="slow")

    # then it wrote nothing, gave its stock back and left the attempt to the taker
    assert not Order.objects.exists()
    assert available(product) == 5
    attempt = CheckoutAttempt.objects.get(idempotency_key="slow")
    assert (attempt.state, attempt.order_id) == ("in_progress", taker_order_id)


def test_an_expired_key_starts_a_new_checkout(shopper, make_product):
    user, address = shopper
    fill_cart(user.id, (make_product(), 1))
    first = checkout(user, address, key="old").order
    CheckoutAttempt.objects.filter(idempotency_key="old").update(created_at=timezone.now() - timedelta(days=2))
    fill_cart(user.id, (make_product(), 1))

    second = checkout(user, address, key="old")

    assert second.replayed is False
    assert second.order.id != first.id
    assert CheckoutAttempt.objects.filter(idempotency_key="old").count() == 1


def test_expired_attempts_are_purged(shopper):
    user, _ = shopper
    now = timezone.now()
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="old", request_fingerprint="f",
                                   created_at=now - timedelta(hours=25))
    CheckoutAttempt.objects.create(user_id=user.id, idempotency_key="new", request_fingerprint="f",
                                   created_at=now - timedelta(hours=23))

    purged = services.checkout_attempts_purge_expired()

    assert purged == 1
    assert list(CheckoutAttempt.objects.values_list("idempotency_key", flat=True)) == ["new"]


def test_a_replay_answers_the_first_answer_even_after_the_order_was_canceled(shopper, make_product):
    # given an order made with a key, then canceled
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    first = checkout(user, address, key="then-canceled")
    services.order_cancel(order_id=first.order.id, user_id=user.id, actor_id=user.id)

    # when the same request is replayed
    again = checkout(user, address, key="then-canceled")

    # then it answers what the first answer said, verbatim, although the order is canceled now
    assert again.replayed is True
    assert again.answer == first.answer
    assert again.answer.status == "pending"
    assert again.order.status == "canceled"
    assert available(product) == 5
