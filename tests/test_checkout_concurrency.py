"""Checkout under real concurrency (PostgreSQL, real threads, one connection each): stock is never oversold and
never negative, opposite lock orders do not deadlock, one Idempotency-Key never makes two orders, and one cart is
checked out at most once whatever keys the requests carry."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.carts.models import CartClaim, ClaimStatus
from apps.gateway.composition import cart as cart_composition
from apps.products.models import StockReservation
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import CheckoutResult, orders_service
from ecommerce.contracts.products import ProductDTO, ProductInput, products_service
from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.errors import CartCheckoutInProgress, IdempotencyInProgress, InsufficientStock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SHOPPERS = 50
STOCK = 10


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment, each in its own thread with its own database connection, and return
    what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome, errors included
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a checkout hung"
    return outcomes


def make_product(sku: str) -> ProductDTO:
    return products_service.product_create(
        product=ProductInput(sku=sku, name=f"Scarce {sku}", price=Decimal("25.00"), stock=STOCK))


def make_shopper(make_user: Callable[..., Any], *products: ProductDTO) -> tuple[int, int]:
    user = make_user()
    address = users_service.address_create(user_id=user.id, address=AddressInput(
        full_name="Race Tester", street="1 Thread St", city="Lockport", zip_code="14094", country="US"))
    for product in products:
        cart_composition.cart_item_add(user_id=user.id, product_id=product.id, quantity=1)
    return user.id, address.id


def checkout_call(user_id: int, address_id: int) -> Callable[[], CheckoutResult]:
    return lambda: orders_service.order_checkout(user_id=user_id, address_id=address_id,
                                                 idempotency_key=uuid.uuid4().hex, request_fingerprint="fp")


def checkout_over_http(user_id: int, address_id: int) -> Callable[[str], tuple[int, str | None, dict[str, Any]]]:
    """``post(key)`` checks out through the public API as that user and returns (status, replayed header, body)."""
    tokens = users_service.auth_login(email=users_service.user_get(user_id=user_id).email,
                                      password=DEFAULT_PASSWORD)

    def post(key: str) -> tuple[int, str | None, dict[str, Any]]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
        response = client.post("/api/v1/orders", {"address_id": address_id}, format="json",
                               headers={"Idempotency-Key": key})
        return response.status_code, response.headers.get("Idempotent-Replayed"), response.json()

    return post


def assert_only_orders_and_short_stock(outcomes: list[Any]) -> list[CheckoutResult]:
    unexpected = [o for o in outcomes if not isinstance(o, CheckoutResult | InsufficientStock)]
    assert unexpected == [], f"unexpected outcomes (deadlock or crash?): {unexpected[:3]!r}"
    return [o for o in outcomes if isinstance(o, CheckoutResult)]


def test_fifty_shoppers_race_for_ten_units(make_user):
    # given 50 shoppers with the same product (10 in stock) in their carts
    product = make_product("RACE-1")
    shoppers = [make_shopper(make_user, product) for _ in range(SHOPPERS)]

    # when all of them check out at the same moment
    outcomes = run_at_once([checkout_call(user_id, address_id) for user_id, address_id in shoppers])

    # then exactly ten orders are made, the others are told the stock is short, and nothing is oversold
    orders = assert_only_orders_and_short_stock(outcomes)
    assert len(orders) == STOCK
    assert orders_service.order_list(user_id=None).count == STOCK
    assert products_service.product_get(product_id=product.id).stock == 0
    short = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert all(o.extra["lines"][0]["product_id"] == product.id for o in short)


def test_carts_filled_in_opposite_orders_do_not_deadlock(make_user):
    # given two scarce products, added to half of the carts as A then B and to the other half as B then A
    first, second = make_product("RACE-A"), make_product("RACE-B")
    shoppers = [
        make_shopper(make_user, *((first, second) if number % 2 else (second, first)))
        for number in range(SHOPPERS)
    ]

    outcomes = run_at_once([checkout_call(user_id, address_id) for user_id, address_id in shoppers])

    orders = assert_only_orders_and_short_stock(outcomes)
    assert len(orders) == STOCK
    assert all(len(result.order.items) == 2 for result in orders)
    assert products_service.product_get(product_id=first.id).stock == 0
    assert products_service.product_get(product_id=second.id).stock == 0


def test_twenty_requests_with_one_key_make_one_order(make_user):
    # given one shopper who sends the same checkout 20 times at once (a client retrying too eagerly)
    product = make_product("RACE-KEY")
    user_id, address_id = make_shopper(make_user, product)
    post = checkout_over_http(user_id, address_id)

    outcomes = run_at_once([lambda: post("one-key-for-all") for _ in range(20)])

    # then one request made the order; every other one replayed it or was told it is still running
    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    kinds = Counter((status, replayed) for status, replayed, _ in outcomes)
    assert kinds[(201, None)] == 1
    assert set(kinds) <= {(201, None), (201, "true"), (409, None)}
    made = next(body for status, replayed, body in outcomes if status == 201 and replayed is None)
    assert all(body == made for status, _, body in outcomes if status == 201)
    assert all(body["code"] == IdempotencyInProgress.code for status, _, body in outcomes if status == 409)
    assert orders_service.order_list(user_id=None).count == 1
    assert products_service.product_get(product_id=product.id).stock == STOCK - 1


def test_ten_checkouts_of_one_cart_with_different_keys_make_one_order(make_user):
    # given one shopper whose cart holds one unit, sent to checkout ten times at once with ten different keys
    # (a double click that made a new key each time, several tabs)
    product = make_product("RACE-CART")
    user_id, address_id = make_shopper(make_user, product)
    post = checkout_over_http(user_id, address_id)

    outcomes = run_at_once([lambda key=key: post(key) for key in (uuid.uuid4().hex for _ in range(10))])

    # then exactly one order is made; every other request is told the cart is being checked out or is empty
    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    made = [body for status, _, body in outcomes if status == 201]
    refused = [(status, body) for status, _, body in outcomes if status != 201]
    assert len(made) == 1
    assert all(
        (status, body["code"]) == (409, CartCheckoutInProgress.code)
        or ((status, body["code"]) == (400, "validation_error") and "cart" in body["errors"])
        for status, body in refused
    ), refused
    assert orders_service.order_list(user_id=user_id).count == 1
    # and the stock was reserved once, the cart is empty and nothing is left claimed
    assert products_service.product_get(product_id=product.id).stock == STOCK - 1
    assert StockReservation.objects.filter(product_id=product.id).count() == 1
    assert carts_service.cart_get(user_id=user_id).items == []
    assert not CartClaim.objects.filter(status=ClaimStatus.OPEN).exists()
    assert CartClaim.objects.get(order_id=made[0]["id"]).status == ClaimStatus.COMPLETED
