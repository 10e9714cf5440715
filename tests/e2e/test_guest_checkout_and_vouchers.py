"""Guest carts, the price guard and vouchers over HTTP in both modes: a guest fills a cart, registers and finds it
merged (capped at the stock), checks out with an inline address and the total they saw; a price change is caught
before anything is reserved; a voucher made by catalog staff discounts an order, and a cancellation gives its use
back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.conftest import USER_PASSWORD, Customer, Shop, assert_problem, unique_email

pytestmark = pytest.mark.e2e

INLINE_ADDRESS = {"full_name": "Gus Guest", "street": "3 Merge Lane", "city": "Portland", "state": "OR",
                  "zip_code": "97201", "country": "US"}


def _checkout(customer: Customer, **body: Any):
    return customer.api.post("/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def _lines(cart: dict[str, Any]) -> dict[int, int]:
    return {line["product_id"]: line["quantity"] for line in cart["items"]}


def test_guest_registers_finds_the_cart_merged_and_checks_out(shop: Shop, make_product, catalog_staff) -> None:
    lamp, bulb = make_product(price="25.00", stock=3), make_product(price="4.00", stock=10)
    with shop.client() as guest:
        # a guest starts a cart and fills it
        token = guest.post("/carts").json()["token"]
        guest.headers["X-Cart-Token"] = token
        assert guest.post("/cart/items", json={"product_id": lamp["id"], "quantity": 3}).status_code == 201
        filled = guest.post("/cart/items", json={"product_id": bulb["id"], "quantity": 2})
        assert filled.status_code == 201, filled.text
        assert filled.json()["subtotal"] == "83.00"
        # meanwhile one lamp is written off: only two are left
        assert catalog_staff.post(f"/products/{lamp['id']}/stock", json={"delta": -1}).status_code == 200

        # the guest registers with the cart token
        email = unique_email("guest")
        registered = guest.post("/auth/register", json={"email": email, "password": USER_PASSWORD,
                                                         "name": "Gus Guest"})
        assert registered.status_code == 201, registered.text
        merged = registered.json()["cart"]
        assert _lines(merged) == {lamp["id"]: 2, bulb["id"]: 2}
        assert merged["notices"] == [{"product_id": lamp["id"], "code": "quantity_capped", "requested": 3,
                                      "kept": 2}]
        # the guest cart is gone; signing in with its token again merges nothing twice
        assert_problem(guest.get("/cart"), 404, "not_found")
        login = guest.post("/auth/login", json={"email": email, "password": USER_PASSWORD})
        assert login.status_code == 200, login.text
        assert _lines(login.json()["cart"]) == {lamp["id"]: 2, bulb["id"]: 2}

    with shop.client(login.json()["access"]) as api:
        customer = Customer(id=registered.json()["id"], email=email, token=login.json()["access"], api=api)
        cart = api.get("/cart").json()
        assert cart["total"] == "58.00"
        order = _checkout(customer, shipping_address=INLINE_ADDRESS, expected_total=cart["total"])

        assert order.status_code == 201, order.text
        body = order.json()
        assert (body["subtotal"], body["discount"], body["shipping_cost"], body["total"]) == (
            "58.00", "0.00", "5.00", "63.00")
        assert body["shipping_address"]["country"] == "US"
        assert api.get("/users/me/addresses").json()["count"] == 0
        assert api.get("/cart").json()["items"] == []
    assert catalog_staff.get(f"/products/{lamp['id']}").json()["stock"] == 0


def test_a_price_change_is_caught_before_anything_is_reserved(customer: Customer, make_product,
                                                              catalog_staff) -> None:
    product = make_product(price="40.00", stock=5)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
    seen = customer.api.get("/cart").json()["total"]
    assert catalog_staff.patch(f"/products/{product['id']}", json={"price": "44.00"}).status_code == 200

    refused = _checkout(customer, shipping_address=INLINE_ADDRESS, expected_total=seen)

    problem = assert_problem(refused, 409, "price_changed")
    assert problem["lines"] == [{"product_id": product["id"], "old_unit_price": "40.00", "new_unit_price": "44.00"}]
    assert catalog_staff.get(f"/products/{product['id']}").json()["stock"] == 5
    cart = customer.api.get("/cart").json()
    assert cart["items"][0]["price_changed_from"] == "40.00"
    confirmed = _checkout(customer, shipping_address=INLINE_ADDRESS, expected_total=cart["total"])
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["subtotal"] == "44.00"


def test_a_voucher_checkout_and_its_use_given_back_on_cancel(new_customer, make_product, catalog_staff,
                                                             address_of) -> None:
    # catalog staff make a 20 % voucher, one use per customer
    code = f"E2E{uuid.uuid4().hex[:8].upper()}"
    created = catalog_staff.post("/vouchers", json={"code": code.lower(), "kind": "percent", "value": "20",
                                                    "min_subtotal": "30.00", "max_uses_per_customer": 1})
    assert created.status_code == 201, created.text
    voucher_url = f"/vouchers/{created.json()['id']}"
    customer = new_customer()
    product = make_product(price="50.00", stock=5)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})

    # the customer applies it, sees the discount and checks out
    applied = customer.api.post("/cart/voucher", json={"code": code.lower()})
    assert applied.status_code == 200, applied.text
    assert (applied.json()["discount"], applied.json()["total"]) == ("10.00", "40.00")
    order = _checkout(customer, address_id=address_of(customer), expected_total="40.00")
    assert order.status_code == 201, order.text
    assert (order.json()["discount"], order.json()["total"]) == ("10.00", "45.00")
    assert catalog_staff.get(voucher_url).json()["uses"] == 1

    # a second use by the same customer is refused; canceling the order gives the use back
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
    refused = customer.api.post("/cart/voucher", json={"code": code})
    assert assert_problem(refused, 400, "voucher_invalid")["reason"] == "customer_limit"
    assert customer.api.post(f"/orders/{order.json()['id']}/cancel").status_code == 200
    assert catalog_staff.get(voucher_url).json()["uses"] == 0
    assert customer.api.post("/cart/voucher", json={"code": code}).status_code == 200

    # and a customer cannot manage vouchers
    assert_problem(customer.api.get("/vouchers"), 403, "permission_denied")
