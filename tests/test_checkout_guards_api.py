"""Checkout's additions through the public API: ``expected_total`` (a total that moved answers 409 ``price_changed``
naming the lines and reserves nothing; without it checkout charges today's prices as before) and an inline
``shipping_address`` (checked like the address endpoints, kept on the order only or also saved)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from itertools import count

import pytest

from apps.gateway.composition import cart as cart_composition
from apps.gateway.tests.problems import assert_problem
from apps.products.models import StockReservation
from ecommerce.contracts.products import ProductChanges, ProductInput, products_service
from ecommerce.contracts.users import users_service

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
_numbers = count(1)
INLINE = {"full_name": "Ines Line", "street": "9 Inline Rd", "city": "Lyon", "zip_code": "69001", "country": "FR"}


def make_product(*, price: str, stock: int = 10):
    number = next(_numbers)
    return products_service.product_create(product=ProductInput(
        sku=f"GUARD-{number}", name=f"Guarded product {number}", price=Decimal(price), stock=stock))


def add(client, product, quantity: int = 1) -> None:
    cart_composition.cart_item_add(user_id=client.user.id, product_id=product.id, quantity=quantity)


def place(client, body: dict, key: str | None = None):
    return client.post(ORDERS, body, format="json", headers={"Idempotency-Key": key or uuid.uuid4().hex})


def reprice(product, price: str) -> None:
    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal(price)))


def test_a_total_that_moved_is_409_naming_the_changed_lines_and_nothing_is_reserved(customer_client):
    # given a cart of a lamp at 30.00 and a bulb at 5.00, then the lamp's price rises
    lamp, bulb = make_product(price="30.00"), make_product(price="5.00")
    add(customer_client, lamp, 2)
    add(customer_client, bulb)
    reprice(lamp, "32.00")

    # when the shopper checks out expecting the total they saw
    response = place(customer_client, {"shipping_address": INLINE, "expected_total": "65.00"})

    # then they are told which price changed, nothing is reserved and the cart keeps its lines
    problem = assert_problem(response, 409, "price_changed")
    assert problem["lines"] == [{"product_id": lamp.id, "old_unit_price": "30.00", "new_unit_price": "32.00"}]
    assert not StockReservation.objects.exists()
    assert products_service.product_get(product_id=lamp.id).stock == 10
    cart = customer_client.get("/api/v1/cart").json()
    assert [line["price_changed_from"] for line in cart["items"]] == ["30.00", None]
    assert cart["total"] == "69.00"


def test_the_new_total_confirmed_checks_out(customer_client):
    lamp = make_product(price="30.00")
    add(customer_client, lamp)
    reprice(lamp, "28.00")

    response = place(customer_client, {"shipping_address": INLINE, "expected_total": "28.00"})

    assert response.status_code == 201, response.content
    assert response.json()["subtotal"] == "28.00"


def test_without_expected_total_todays_prices_are_charged_as_before(customer_client):
    lamp = make_product(price="30.00")
    add(customer_client, lamp)
    reprice(lamp, "31.00")

    response = place(customer_client, {"shipping_address": INLINE})

    assert response.status_code == 201, response.content
    assert response.json()["subtotal"] == "31.00"


def test_a_bad_expected_total_is_a_validation_error(customer_client):
    add(customer_client, make_product(price="3.00"))

    response = place(customer_client, {"shipping_address": INLINE, "expected_total": "-1"})

    assert "expected_total" in assert_problem(response, 400, "validation_error")["errors"]


def test_an_inline_address_is_kept_on_the_order_only(customer_client):
    add(customer_client, make_product(price="12.00"))

    response = place(customer_client, {"shipping_address": {**INLINE, "phone": "+33 4 00 00 00 00"}})

    assert response.status_code == 201, response.content
    address = response.json()["shipping_address"]
    assert (address["full_name"], address["country"], address["phone"], address["state"]) == (
        "Ines Line", "FR", "+33 4 00 00 00 00", "")
    assert users_service.address_list(user_id=customer_client.user.id).count == 0


def test_an_inline_address_with_save_is_added_to_the_users_addresses(customer_client):
    add(customer_client, make_product(price="12.00"))

    response = place(customer_client, {"shipping_address": {**INLINE, "save": True}})

    assert response.status_code == 201, response.content
    saved = users_service.address_list(user_id=customer_client.user.id).results
    assert [(address.street, address.country, address.is_default) for address in saved] == [
        ("9 Inline Rd", "FR", True)]


@pytest.mark.parametrize(("address", "field"), [
    ({**INLINE, "country": "XX"}, "shipping_address.country"),
    ({**INLINE, "street": "   "}, "shipping_address.street"),
    ({**INLINE, "zip_code": "9" * 40}, "shipping_address.zip_code"),
    ({key: value for key, value in INLINE.items() if key != "city"}, "shipping_address.city"),
])
def test_a_bad_inline_address_is_refused_like_on_the_address_endpoints(customer_client, address, field):
    product = make_product(price="12.00")
    add(customer_client, product)

    response = place(customer_client, {"shipping_address": {**address, "save": True}})

    assert field in assert_problem(response, 400, "validation_error")["errors"]
    assert users_service.address_list(user_id=customer_client.user.id).count == 0
    assert products_service.product_get(product_id=product.id).stock == 10
    assert len(customer_client.get("/api/v1/cart").json()["items"]) == 1


def test_an_address_id_and_an_inline_address_together_or_neither_are_refused(customer_client):
    add(customer_client, make_product(price="12.00"))

    both = place(customer_client, {"address_id": 1, "shipping_address": INLINE})
    neither = place(customer_client, {})

    assert "address_id" in assert_problem(both, 400, "validation_error")["errors"]
    assert "address_id" in assert_problem(neither, 400, "validation_error")["errors"]
