"""Vouchers and guest-cart merges under real concurrency (PostgreSQL, real threads, one connection each): racing
checkouts never spend more uses of a voucher than it has left, and racing sign-ins merge a guest cart once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.carts.models import Cart
from apps.gateway.composition import cart as cart_composition
from apps.orders.models import Order, Voucher, VoucherRedemption
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import CheckoutResult
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.errors import VoucherInvalid
from tests.test_checkout_concurrency import checkout_call, make_shopper, run_at_once

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SHOPPERS = 20
USES_LEFT = 5


def test_twenty_checkouts_against_a_voucher_with_five_uses_left_make_five_discounted_orders(make_user):
    # given a voucher used 3 times out of 8 (5 left), and 20 shoppers who each applied it to their cart
    product = products_service.product_create(product=ProductInput(
        sku="RACE-VOUCHER", name="Voucher race", price=Decimal("50.00"), stock=100))
    voucher = Voucher.objects.create(code="LASTFIVE", kind="fixed", value=Decimal("10.00"), max_uses=8, uses=3)
    shoppers = [make_shopper(make_user, product) for _ in range(SHOPPERS)]
    for user_id, _ in shoppers:
        cart_composition.cart_voucher_apply(user_id=user_id, code="LASTFIVE")

    # when all of them check out at the same moment
    outcomes = run_at_once([checkout_call(user_id, address_id) for user_id, address_id in shoppers])

    # then exactly five orders were made, each with the discount; the others were told the voucher is used up
    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"CheckoutResult": USES_LEFT, "VoucherInvalid": SHOPPERS - USES_LEFT}, outcomes
    orders = [outcome.order for outcome in outcomes if isinstance(outcome, CheckoutResult)]
    assert all(order.discount == Decimal("10.00") for order in orders)
    assert all(outcome.reason == "used_up" for outcome in outcomes if isinstance(outcome, VoucherInvalid))
    voucher.refresh_from_db()
    assert voucher.uses == 8
    assert VoucherRedemption.objects.count() == Order.objects.filter(discount__gt=0).count() == USES_LEFT
    # and the refused checkouts took nothing: only the five orders hold stock, their shoppers keep their carts
    assert products_service.product_get(product_id=product.id).stock == 100 - USES_LEFT
    refused_users = {user_id for (user_id, _), outcome in zip(shoppers, outcomes, strict=True)
                     if isinstance(outcome, VoucherInvalid)}
    assert all(len(carts_service.cart_get(user_id=user_id).items) == 1 for user_id in refused_users)


def test_ten_racing_logins_with_one_guest_cart_merge_it_once(make_user):
    # given a user with 1 lamp in their cart, and a guest cart with 2 lamps and 3 bulbs (plenty in stock)
    user = make_user()
    lamp = products_service.product_create(product=ProductInput(
        sku="RACE-LAMP", name="Lamp", price=Decimal("20.00"), stock=50))
    bulb = products_service.product_create(product=ProductInput(
        sku="RACE-BULB", name="Bulb", price=Decimal("2.00"), stock=50))
    cart_composition.cart_item_add(user_id=user.id, product_id=lamp.id, quantity=1)
    token = carts_service.guest_cart_create().token
    cart_composition.cart_item_add(guest_token=token, product_id=lamp.id, quantity=2)
    cart_composition.cart_item_add(guest_token=token, product_id=bulb.id, quantity=3)

    def login() -> tuple[int, dict[str, Any]]:
        client = APIClient()
        response = client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD},
                               format="json", headers={"X-Cart-Token": token})
        return response.status_code, response.json()

    # when ten sign-ins with that cart token run at the same moment
    outcomes = run_at_once([login for _ in range(10)])

    # then every sign-in succeeded and the guest's quantities were added exactly once
    assert all(isinstance(outcome, tuple) and outcome[0] == 200 for outcome in outcomes), outcomes
    quantities = {line.product_id: line.quantity for line in carts_service.cart_get(user_id=user.id).items}
    assert quantities == {lamp.id: 3, bulb.id: 3}
    assert not Cart.objects.filter(guest_token_hash__isnull=False).exists()
    assert all({line["product_id"]: line["quantity"] for line in body["cart"]["items"]} == quantities
               for _, body in outcomes)
