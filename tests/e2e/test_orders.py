"""Cart, checkout, cancellation and staff fulfilment over HTTP in both modes: the journey that crosses every
bounded context (users for the address, carts, products for prices and stock, orders)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import Customer, assert_problem

pytestmark = pytest.mark.e2e


def _checkout(customer: Customer, address_id: int, key: str | None = None) -> httpx.Response:
    return customer.api.post("/orders", json={"address_id": address_id},
                             headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_cart_lines_are_priced_by_the_catalog(customer: Customer, make_product) -> None:
    product = make_product(price="12.50", stock=5)

    added = customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2, "price": "0.01"})
    added_again = customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
    changed = customer.api.patch(f"/cart/items/{product['id']}", json={"quantity": 4})

    assert added.status_code == 201, added.text
    assert added.json()["items"][0]["unit_price"] == "12.50"
    assert added_again.json()["items"][0]["quantity"] == 3
    assert changed.json()["subtotal"] == "50.00"
    assert changed.json()["total_quantity"] == 4
    assert changed.json()["currency"]
    removed = customer.api.patch(f"/cart/items/{product['id']}", json={"quantity": 0})
    assert removed.json()["items"] == []


def test_cart_errors(customer: Customer, make_product, anonymous: httpx.Client) -> None:
    product = make_product(stock=2)

    assert_problem(customer.api.post("/cart/items", json={"product_id": 999999999, "quantity": 1}), 404)
    assert_problem(customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 0}), 400,
                   "validation_error")
    assert_problem(customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 3}), 409,
                   "insufficient_stock")
    assert_problem(anonymous.get("/cart"), 401, "not_authenticated")
    assert customer.api.get("/cart").json()["items"] == []


def test_delete_line_and_empty_cart(customer: Customer, make_product) -> None:
    first, second = make_product(), make_product()
    customer.api.post("/cart/items", json={"product_id": first["id"], "quantity": 1})
    customer.api.post("/cart/items", json={"product_id": second["id"], "quantity": 1})

    after_delete = customer.api.delete(f"/cart/items/{first['id']}")
    emptied = customer.api.delete("/cart")

    assert [line["product_id"] for line in after_delete.json()["items"]] == [second["id"]]
    assert emptied.status_code == 204
    assert customer.api.get("/cart").json()["items"] == []


def test_checkout_reserves_stock_empties_the_cart_and_replays(customer: Customer, make_product, address_of,
                                                              anonymous: httpx.Client) -> None:
    product = make_product(price="30.00", stock=5)
    address_id = address_of(customer)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2})
    key = uuid.uuid4().hex

    order = _checkout(customer, address_id, key)
    replay = _checkout(customer, address_id, key)
    conflict = _checkout(customer, address_of(customer), key)

    assert order.status_code == 201, order.text
    body = order.json()
    assert body["status"] == "pending"
    assert body["subtotal"] == "60.00"
    assert body["shipping_cost"] == "5.00"
    assert body["total"] == "65.00"
    assert body["items"][0]["unit_price"] == "30.00"
    assert body["shipping_address"]["city"] == "Springfield"
    assert replay.status_code == 201
    assert replay.json()["id"] == body["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert_problem(conflict, 422, "idempotency_conflict")
    assert customer.api.get("/cart").json()["items"] == []
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 3
    listed = customer.api.get("/orders").json()
    assert [o["id"] for o in listed["results"]] == [body["id"]]


def test_checkout_errors_change_nothing(customer: Customer, make_product, address_of, new_customer,
                                        anonymous: httpx.Client) -> None:
    address_id = address_of(customer)
    empty = _checkout(customer, address_id)
    product = make_product(stock=3)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 3})
    stranger = new_customer()
    stranger_address = address_of(stranger)
    stranger.api.post("/cart/items", json={"product_id": product["id"], "quantity": 3})
    _checkout(stranger, stranger_address)  # takes all the stock first

    short = _checkout(customer, address_id)
    no_key = customer.api.post("/orders", json={"address_id": address_id})
    foreign_address = _checkout(customer, stranger_address)

    assert_problem(empty, 400)
    body = assert_problem(short, 409, "insufficient_stock")
    assert body["lines"][0]["product_id"] == product["id"]
    assert_problem(no_key, 400)
    assert foreign_address.status_code in (400, 404), foreign_address.text
    assert customer.api.get("/orders").json()["count"] == 0
    assert len(customer.api.get("/cart").json()["items"]) == 1
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 0


def test_orders_are_private_to_their_owner(customer: Customer, new_customer, make_product, address_of) -> None:
    product = make_product()
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
    order = _checkout(customer, address_of(customer)).json()
    stranger = new_customer()

    assert_problem(stranger.api.get(f"/orders/{order['id']}"), 404, "not_found")
    assert_problem(stranger.api.post(f"/orders/{order['id']}/cancel"), 404, "not_found")
    assert stranger.api.get("/orders").json()["count"] == 0
    assert_problem(customer.api.post(f"/orders/{order['id']}/status", json={"status": "shipped"}), 403)


def test_cancel_returns_the_stock(customer: Customer, make_product, address_of, anonymous: httpx.Client) -> None:
    product = make_product(stock=4)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 3})
    order = _checkout(customer, address_of(customer)).json()
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 1

    canceled = customer.api.post(f"/orders/{order['id']}/cancel")
    again = customer.api.post(f"/orders/{order['id']}/cancel")

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert_problem(again, 409, "invalid_transition")
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 4


def test_staff_fulfil_an_order(customer: Customer, order_staff: httpx.Client, make_product, address_of,
                               anonymous: httpx.Client) -> None:
    product = make_product(stock=6)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2})
    order = _checkout(customer, address_of(customer)).json()

    seen = order_staff.get("/orders", params={"user_id": customer.id})
    steps = [order_staff.post(f"/orders/{order['id']}/status", json={"status": s}).json().get("status")
             for s in ("paid", "shipped", "delivered")]
    backwards = order_staff.post(f"/orders/{order['id']}/status", json={"status": "pending"})
    cancel_delivered = customer.api.post(f"/orders/{order['id']}/cancel")

    assert [o["id"] for o in seen.json()["results"]] == [order["id"]]
    assert steps == ["paid", "shipped", "delivered"]
    assert_problem(backwards, 409, "invalid_transition")
    assert_problem(cancel_delivered, 409, "invalid_transition")
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "delivered"
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 4


def test_staff_cancel_of_a_paid_order_refunds_and_restocks(customer: Customer, order_staff: httpx.Client,
                                                           make_product, address_of,
                                                           anonymous: httpx.Client) -> None:
    product = make_product(stock=2)
    customer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2})
    order = _checkout(customer, address_of(customer)).json()
    order_staff.post(f"/orders/{order['id']}/status", json={"status": "paid"})

    canceled = order_staff.post(f"/orders/{order['id']}/cancel")

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert anonymous.get(f"/products/{product['id']}").json()["stock"] == 2
