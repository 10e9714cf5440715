"""The public cart API: every endpoint, every error it can answer, and that an error never changes the cart."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator

from apps.gateway.tests.problems import assert_problem
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import ProductChanges, ProductInput, products_service

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"
VOUCHER = "/api/v1/cart/voucher"
_skus = count(1)


def item_url(product_id: int) -> str:
    return f"{ITEMS}/{product_id}"


def make_product(*, price: str = "10.00", stock: int = 5):
    number = next(_skus)
    return products_service.product_create(
        product=ProductInput(sku=f"API-CART-{number}", name=f"Api cart product {number}", price=Decimal(price),
                             stock=stock)
    )


def lines_of(client) -> dict[int, int]:
    cart = carts_service.cart_get(user_id=client.user.id)
    return {line.product_id: line.quantity for line in cart.items}


# --- large amounts -----------------------------------------------------------------------------------------------

def test_the_dearest_product_in_the_largest_quantity_still_renders(customer_client):
    # given the dearest price the catalog allows (found by fuzzing: such a cart answered 500 on every request)
    dear = make_product(price="9999999999.99", stock=2000)

    # when the user adds the largest quantity a line may hold, twice over two lines, and reads the cart
    added = customer_client.post(ITEMS, {"product_id": dear.id, "quantity": 1000}, format="json")
    second = make_product(price="9999999999.99", stock=2000)
    customer_client.post(ITEMS, {"product_id": second.id, "quantity": 1000}, format="json")
    response = customer_client.get(CART)

    # then every answer is the cart, with exact two-place amounts
    assert added.status_code == 201, added.content
    assert added.json()["subtotal"] == "9999999999990.00"
    assert response.status_code == 200, response.content
    assert [line["line_total"] for line in response.json()["items"]] == ["9999999999990.00"] * 2
    assert response.json()["subtotal"] == "19999999999980.00"


# --- authentication ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("get", CART), ("delete", CART), ("post", ITEMS), ("patch", item_url(1)), ("delete", item_url(1)),
])
def test_every_cart_endpoint_needs_a_signed_in_user(api_client, method, path):
    response = getattr(api_client, method)(path, {"product_id": 1, "quantity": 1}, format="json")

    assert_problem(response, 401, "not_authenticated")


def test_an_invalid_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert_problem(api_client.get(CART), 401, "not_authenticated")


# --- reading -----------------------------------------------------------------------------------------------------

def test_a_new_user_sees_an_empty_cart(customer_client, settings):
    response = customer_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    assert body["items"] == []
    assert body["total_quantity"] == 0
    assert body["subtotal"] == "0.00"
    assert body["currency"] == settings.ECOMMERCE_CURRENCY
    assert "updated_at" in body
    assert "user_id" not in body


def test_the_cart_shows_todays_prices_as_strings(customer_client):
    product = make_product(price="19.99", stock=8)
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")
    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("17.50")))

    body = customer_client.get(CART).json()

    assert body["items"] == [{
        "product_id": product.id, "sku": product.sku, "name": product.name, "unit_price": "17.50",
        "quantity": 2, "line_total": "35.00", "available": 8, "price_changed_from": "19.99",
    }]
    assert body["total_quantity"] == 2
    assert body["subtotal"] == "35.00"
    assert (body["discount"], body["total"], body["voucher"]) == ("0.00", "35.00", None)


def test_reading_the_cart_costs_the_same_queries_for_2_or_20_lines(client_for, django_assert_max_num_queries):
    small, large = client_for(), client_for()
    products = [make_product(stock=50) for _ in range(20)]
    for product in products[:2]:
        small.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")
    for product in products:
        large.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    with CaptureQueriesContext(connection) as small_queries:
        assert len(small.get(CART).json()["items"]) == 2
    # At most one for the cart with its lines and one for the products they name.
    with CaptureQueriesContext(connection) as large_queries, django_assert_max_num_queries(2):
        assert len(large.get(CART).json()["items"]) == 20

    assert len(large_queries) == len(small_queries), (len(small_queries), len(large_queries))


# --- adding ------------------------------------------------------------------------------------------------------

def test_adding_answers_201_with_the_cart_and_adds_to_an_existing_line(customer_client):
    product = make_product(price="4.25", stock=10)

    first = customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")
    second = customer_client.post(ITEMS, {"product_id": product.id, "quantity": 3}, format="json")

    assert first.status_code == 201
    assert second.status_code == 201
    body = second.json()
    assert [(line["product_id"], line["quantity"], line["line_total"]) for line in body["items"]] == [
        (product.id, 5, "21.25")]
    assert body["subtotal"] == "21.25"
    assert lines_of(customer_client) == {product.id: 5}


def test_a_client_can_never_set_a_price(customer_client):
    product = make_product(price="10.00")

    response = customer_client.post(
        ITEMS, {"product_id": product.id, "quantity": 1, "unit_price": "0.01", "line_total": "0.01",
                "subtotal": "0.01", "user_id": 999}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["items"][0]["unit_price"] == "10.00"
    assert body["subtotal"] == "10.00"
    assert lines_of(customer_client) == {product.id: 1}


@pytest.mark.parametrize("product_id", [987_654, 2**70])
def test_adding_an_unknown_product_is_404(customer_client, product_id):
    response = customer_client.post(ITEMS, {"product_id": product_id, "quantity": 1}, format="json")

    assert_problem(response, 404, "not_found")
    assert lines_of(customer_client) == {}


def test_adding_an_inactive_product_is_404(customer_client):
    product = make_product()
    products_service.product_update(product_id=product.id, changes=ProductChanges(is_active=False))

    response = customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    assert_problem(response, 404, "not_found")
    assert lines_of(customer_client) == {}


@pytest.mark.parametrize("quantity", [0, -3, 1001])
def test_adding_a_quantity_out_of_range_is_400(customer_client, quantity):
    product = make_product(stock=5000)

    response = customer_client.post(ITEMS, {"product_id": product.id, "quantity": quantity}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert "quantity" in body["errors"]
    assert lines_of(customer_client) == {}


def test_adding_more_than_available_is_409_naming_the_line(customer_client):
    product = make_product(stock=3)
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    response = customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["lines"] == [{"product_id": product.id, "requested": 4, "available": 3}]
    assert lines_of(customer_client) == {product.id: 2}


THE_PRODUCT = object()


@pytest.mark.parametrize(("payload", "field"), [
    ({"quantity": 1}, "product_id"),
    ({"product_id": THE_PRODUCT}, "quantity"),
    ({"product_id": THE_PRODUCT, "quantity": "abc"}, "quantity"),
    ({"product_id": THE_PRODUCT, "quantity": 1.5}, "quantity"),
    ({"product_id": THE_PRODUCT, "quantity": None}, "quantity"),
    ({"product_id": "abc", "quantity": 1}, "product_id"),
])
def test_adding_with_a_bad_body_is_400_and_writes_nothing(customer_client, payload, field):
    product = make_product()
    payload = {key: product.id if value is THE_PRODUCT else value for key, value in payload.items()}

    response = customer_client.post(ITEMS, payload, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert field in body["errors"]
    assert lines_of(customer_client) == {}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"42"])
def test_adding_with_a_body_that_is_not_a_json_object_is_400(customer_client, raw):
    response = customer_client.generic("POST", ITEMS, raw, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert lines_of(customer_client) == {}


# --- changing a quantity -----------------------------------------------------------------------------------------

def test_patching_sets_the_quantity(customer_client):
    product = make_product(price="2.00", stock=9)
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    response = customer_client.patch(item_url(product.id), {"quantity": 7, "unit_price": "0.01"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert [(line["quantity"], line["unit_price"]) for line in body["items"]] == [(7, "2.00")]
    assert body["subtotal"] == "14.00"
    assert lines_of(customer_client) == {product.id: 7}


def test_patching_to_zero_removes_the_line(customer_client):
    product, other = make_product(), make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")
    customer_client.post(ITEMS, {"product_id": other.id, "quantity": 1}, format="json")

    response = customer_client.patch(item_url(product.id), {"quantity": 0}, format="json")

    assert response.status_code == 200
    assert [line["product_id"] for line in response.json()["items"]] == [other.id]
    assert lines_of(customer_client) == {other.id: 1}


def test_patching_a_negative_quantity_is_400(customer_client):
    product = make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    response = customer_client.patch(item_url(product.id), {"quantity": -1}, format="json")

    assert "quantity" in assert_problem(response, 400, "validation_error")["errors"]
    assert lines_of(customer_client) == {product.id: 2}


@pytest.mark.parametrize("payload", [{}, {"quantity": "abc"}, {"quantity": None}])
def test_patching_with_a_bad_body_is_400(customer_client, payload):
    product = make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    response = customer_client.patch(item_url(product.id), payload, format="json")

    assert "quantity" in assert_problem(response, 400, "validation_error")["errors"]
    assert lines_of(customer_client) == {product.id: 2}


def test_patching_a_product_not_in_the_cart_is_404(customer_client):
    product = make_product()

    response = customer_client.patch(item_url(product.id), {"quantity": 1}, format="json")

    assert_problem(response, 404, "not_found")
    assert lines_of(customer_client) == {}


def test_patching_more_than_available_is_409(customer_client):
    product = make_product(stock=3)
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    response = customer_client.patch(item_url(product.id), {"quantity": 4}, format="json")

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["lines"] == [{"product_id": product.id, "requested": 4, "available": 3}]
    assert lines_of(customer_client) == {product.id: 1}


# --- removing and emptying ---------------------------------------------------------------------------------------

def test_deleting_a_line_answers_200_with_the_cart(customer_client):
    product, other = make_product(), make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")
    customer_client.post(ITEMS, {"product_id": other.id, "quantity": 3}, format="json")

    response = customer_client.delete(item_url(product.id))

    assert response.status_code == 200
    assert [(line["product_id"], line["quantity"]) for line in response.json()["items"]] == [(other.id, 3)]
    assert lines_of(customer_client) == {other.id: 3}


def test_deleting_a_line_not_in_the_cart_is_404(customer_client):
    product = make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    assert_problem(customer_client.delete(item_url(987_654)), 404, "not_found")
    assert lines_of(customer_client) == {product.id: 1}


def test_deleting_the_cart_empties_it(customer_client):
    product = make_product()
    customer_client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    response = customer_client.delete(CART)
    again = customer_client.delete(CART)

    assert response.status_code == 204
    assert response.content == b""
    assert again.status_code == 204
    assert customer_client.get(CART).json()["items"] == []


# --- one user's cart is invisible to every other -----------------------------------------------------------------

def test_another_users_cart_is_never_visible_or_changeable(client_for):
    owner, stranger = client_for(), client_for()
    product = make_product(stock=9)
    owner.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    assert stranger.get(CART).json()["items"] == []
    assert_problem(stranger.patch(item_url(product.id), {"quantity": 5}, format="json"), 404, "not_found")
    assert_problem(stranger.delete(item_url(product.id)), 404, "not_found")
    assert stranger.delete(CART).status_code == 204
    stranger.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    assert lines_of(owner) == {product.id: 2}
    assert lines_of(stranger) == {product.id: 1}
    assert [line["quantity"] for line in owner.get(CART).json()["items"]] == [2]


# --- schema ------------------------------------------------------------------------------------------------------

def test_the_schema_documents_the_cart_endpoints_and_their_problems():
    generator = SchemaGenerator(patterns=[path("api/v1/", include("apps.gateway.api.cart"))])

    document = generator.get_schema(request=None, public=True)
    paths = document["paths"]

    assert set(paths[CART]) == {"get", "delete"}
    assert set(paths[CART]["delete"]["responses"]) >= {"204", "401"}
    assert set(paths[ITEMS]) == {"post"}
    assert {"201", "400", "401", "404", "409"} <= set(paths[ITEMS]["post"]["responses"])
    one_item = paths[f"{ITEMS}/{{product_id}}"]
    assert set(one_item) == {"patch", "delete"}
    assert {"200", "400", "401", "404", "409"} <= set(one_item["patch"]["responses"])
    assert {"200", "401", "404"} <= set(one_item["delete"]["responses"])
    assert set(paths["/api/v1/carts"]) == {"post"}
    assert "201" in paths["/api/v1/carts"]["post"]["responses"]
    assert set(paths[VOUCHER]) == {"post", "delete"}
    assert {"200", "400", "401", "404"} <= set(paths[VOUCHER]["post"]["responses"])
    # a guest's cart token is the alternative to the bearer token on every cart operation
    schemes = document["components"]["securitySchemes"]
    assert schemes["cartToken"] == {**schemes["cartToken"], "type": "apiKey", "in": "header", "name": "X-Cart-Token"}
    for operations in (paths[CART], paths[ITEMS], one_item, paths[VOUCHER]):
        for operation in operations.values():
            assert operation["security"] == [{"jwtAuth": []}, {"cartToken": []}]
