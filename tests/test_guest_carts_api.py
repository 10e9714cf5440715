"""Guest carts through the public API: a token from ``POST /carts`` names the cart on every cart endpoint, login
and registration with that token merge it into the user's cart (capped at the stock, re-priced, reported), once,
and an unknown or expired token answers 404 and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.carts.models import Cart
from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import ProductChanges, ProductInput, products_service

pytestmark = pytest.mark.django_db

CARTS = "/api/v1/carts"
CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"
_skus = count(1)


def make_product(*, price: str = "10.00", stock: int = 5):
    number = next(_skus)
    return products_service.product_create(product=ProductInput(
        sku=f"GUEST-{number}", name=f"Guest product {number}", price=Decimal(price), stock=stock))


def guest() -> APIClient:
    client = APIClient()
    response = client.post(CARTS)
    assert response.status_code == 201, response.content
    client.credentials(HTTP_X_CART_TOKEN=response.json()["token"])
    client.token = response.json()["token"]
    return client


def lines(body: dict) -> dict[int, int]:
    return {line["product_id"]: line["quantity"] for line in body["items"]}


def test_a_guest_fills_changes_and_empties_a_cart_by_token():
    # given a guest cart and two products
    shopper = guest()
    lamp, bulb = make_product(price="12.50"), make_product(price="2.00")

    # when the guest adds, changes, removes and reads
    added = shopper.post(ITEMS, {"product_id": lamp.id, "quantity": 2}, format="json")
    shopper.post(ITEMS, {"product_id": bulb.id, "quantity": 3}, format="json")
    changed = shopper.patch(f"{ITEMS}/{bulb.id}", {"quantity": 1}, format="json")
    removed = shopper.delete(f"{ITEMS}/{lamp.id}")
    read = shopper.get(CART)

    # then each answer is the guest's priced cart
    assert added.status_code == 201, added.content
    assert added.json()["subtotal"] == "25.00"
    assert lines(changed.json()) == {lamp.id: 2, bulb.id: 1}
    assert lines(removed.json()) == {bulb.id: 1}
    assert read.json()["total"] == "2.00"
    assert read["Cache-Control"] == "private, no-store"
    assert shopper.delete(CART).status_code == 204
    assert shopper.get(CART).json()["items"] == []


def test_the_token_is_stored_only_as_a_hash():
    shopper = guest()

    assert not Cart.objects.filter(guest_token_hash=shopper.token).exists()
    assert Cart.objects.filter(guest_token_hash__isnull=False).count() == 1


def test_an_unknown_or_expired_token_is_404_and_no_token_is_401(settings):
    # given a guest cart left alone for longer than guest carts live
    stale = guest()
    Cart.objects.filter(guest_token_hash__isnull=False).update(
        updated_at=timezone.now() - timedelta(hours=settings.ECOMMERCE_GUEST_CART_TTL_HOURS + 1))
    product = make_product()
    stranger = APIClient()
    stranger.credentials(HTTP_X_CART_TOKEN="not-a-token")

    # then its token, and a made-up one, are not found; no token at all is not authenticated
    assert_problem(stale.get(CART), 404, "not_found")
    assert_problem(stale.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json"), 404, "not_found")
    assert_problem(stranger.get(CART), 404, "not_found")
    assert_problem(APIClient().get(CART), 401, "not_authenticated")
    assert not Cart.objects.filter(user_id__isnull=True, items__isnull=False).exists()


def test_a_bearer_token_wins_over_a_cart_token(customer_client):
    # given a guest cart with a line, and a signed-in user who also sends that cart token
    shopper = guest()
    product = make_product()
    shopper.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")
    customer_client.credentials(HTTP_AUTHORIZATION=customer_client._credentials["HTTP_AUTHORIZATION"],
                                HTTP_X_CART_TOKEN=shopper.token)

    # then the cart endpoints act on the user's own cart
    assert customer_client.get(CART).json()["items"] == []
    assert lines(shopper.get(CART).json()) == {product.id: 1}


def test_login_merges_the_guest_cart_adding_capping_and_repricing(make_user):
    # given a user whose cart holds 2 lamps, and a guest cart with 3 lamps and 1 bulb; 4 lamps are in stock
    user = make_user()
    lamp, bulb = make_product(price="20.00", stock=4), make_product(price="3.00", stock=9)
    carts_service.cart_item_add(user_id=user.id, product_id=lamp.id, quantity=2, available=4)
    shopper = guest()
    shopper.post(ITEMS, {"product_id": lamp.id, "quantity": 3}, format="json")
    shopper.post(ITEMS, {"product_id": bulb.id, "quantity": 1}, format="json")
    products_service.product_update(product_id=bulb.id, changes=ProductChanges(price=Decimal("2.50")))

    # when the user logs in with the guest's cart token, then once more with it
    login = shopper.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    again = shopper.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    # then the lines were added, the lamps capped at the stock with a notice, at today's prices; and only once
    assert login.status_code == 200, login.content
    cart = login.json()["cart"]
    assert lines(cart) == {lamp.id: 4, bulb.id: 1}
    assert cart["notices"] == [{"product_id": lamp.id, "code": "quantity_capped", "requested": 5, "kept": 4}]
    assert [line["unit_price"] for line in cart["items"]] == ["20.00", "2.50"]
    assert all(line["price_changed_from"] is None for line in cart["items"])
    assert cart["subtotal"] == "82.50"
    assert login.json()["access"]
    assert login.json()["user"]["id"] == user.id
    assert again.status_code == 200
    assert lines(again.json()["cart"]) == {lamp.id: 4, bulb.id: 1}
    assert again.json()["cart"]["notices"] == []
    assert_problem(shopper.get(CART), 404, "not_found")


def test_login_without_a_cart_token_answers_as_before(make_user):
    user = make_user()

    response = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD},
                                format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "user"}


def test_registration_takes_the_guest_cart_along():
    # given a guest cart with a line
    shopper = guest()
    product = make_product(stock=3)
    shopper.post(ITEMS, {"product_id": product.id, "quantity": 2}, format="json")

    # when the guest registers with the cart token
    response = shopper.post("/api/v1/auth/register", {
        "email": "guest.buyer@example.com", "password": "a-Long-passphrase-42", "name": "Guest Buyer"},
        format="json")

    # then the new account's cart holds the guest's lines, and the guest cart is gone
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "guest.buyer@example.com"
    assert lines(body["cart"]) == {product.id: 2}
    assert lines_of_user(body["id"]) == {product.id: 2}
    assert_problem(shopper.get(CART), 404, "not_found")


def test_a_failed_login_merges_nothing(make_user):
    user = make_user()
    shopper = guest()
    product = make_product()
    shopper.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json")

    response = shopper.post("/api/v1/auth/login", {"email": user.email, "password": "wrong-password-1"},
                            format="json")

    assert_problem(response, 401, "invalid_credentials")
    assert lines(shopper.get(CART).json()) == {product.id: 1}
    assert lines_of_user(user.id) == {}


def lines_of_user(user_id: int) -> dict[int, int]:
    return {line.product_id: line.quantity for line in carts_service.cart_get(user_id=user_id).items}
