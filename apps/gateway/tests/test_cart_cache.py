"""A cart is read and priced from the shared cache but never shows stale facts: every change of its lines (however
made: the API, the carts services, a checkout's claim and its release) and every change of a product's price,
discount, name, stock, activity or existence is visible on the very next read of the cart, with the cache on and
off, in-process and through the loopback RPC path; so is a discount window that opens with the passage of time.
Each test first reads the cart (so it, its products and its rendered answer are cached), then changes something,
then reads again; with a real bearer token, so the read again goes through the early path of
``apps.gateway.cart_middleware`` whenever the cached answer is still current."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.gateway import cart_middleware
from apps.gateway.api import cart_reads
from apps.gateway.composition import cart_cache
from apps.gateway.composition import catalog_cache as pricing_cache
from ecommerce import cache_versions
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import ProductChanges, ProductInput, products_service

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"
_numbers = count(1)


@pytest.fixture(params=["cached", "uncached"])
def pricing(request: pytest.FixtureRequest, settings) -> str:
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300 if request.param == "cached" else 0
    return request.param


def new_product(*, price: str = "10.00", stock: int = 5, **fields):
    number = next(_numbers)
    return products_service.product_create(product=ProductInput(
        sku=f"CART-CACHE-{number}", name=f"Cart cached product {number}", price=Decimal(price), stock=stock,
        **fields))


def lines(client) -> dict[int, dict]:
    response = client.get(CART)
    assert response.status_code == 200, response.content
    return {line["product_id"]: line for line in response.json()["items"]}


def in_cart(client, *products, quantity: int = 1) -> dict[int, dict]:
    for product in products:
        assert client.post(ITEMS, {"product_id": product.id, "quantity": quantity}, format="json").status_code == 201
    return lines(client)


def test_a_price_name_or_discount_change_is_visible_on_the_next_read(pricing, rpc_mode, customer_client):
    product = new_product(price="10.00")
    assert in_cart(customer_client, product, quantity=2)[product.id]["line_total"] == "20.00"

    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("12.50")))
    assert lines(customer_client)[product.id]["line_total"] == "25.00"

    products_service.product_update(product_id=product.id, changes=ProductChanges(
        name="Renamed", discount_type="percent", discount_value=Decimal("20")))
    line = lines(customer_client)[product.id]
    assert (line["name"], line["unit_price"], line["line_total"]) == ("Renamed", "10.00", "20.00")


def test_a_sale_or_a_stock_adjustment_is_visible_on_the_next_read(pricing, rpc_mode, customer_client):
    product = new_product(stock=5)
    assert in_cart(customer_client, product)[product.id]["available"] == 5

    products_service.product_stock_adjust(product_id=product.id, delta=-3)
    assert lines(customer_client)[product.id]["available"] == 2


def test_deactivation_and_deletion_are_visible_on_the_next_read(pricing, rpc_mode, customer_client):
    withdrawn, deleted, kept = new_product(), new_product(), new_product()
    assert set(in_cart(customer_client, withdrawn, deleted, kept)) == {withdrawn.id, deleted.id, kept.id}

    products_service.product_update(product_id=withdrawn.id, changes=ProductChanges(is_active=False))
    products_service.product_delete(product_id=deleted.id)

    shown = lines(customer_client)
    assert set(shown) == {withdrawn.id, kept.id}
    assert (shown[withdrawn.id]["available"], shown[kept.id]["available"]) == (0, 5)


def test_a_discount_window_opening_is_visible_without_any_write(pricing, customer_client):
    # given a product whose discount starts in a moment, read into the cart at its full price
    now = timezone.now()
    product = new_product(price="60.00", discount_type="fixed", discount_value=Decimal("30"),
                          discount_starts_at=now + timedelta(seconds=1.5))
    assert in_cart(customer_client, product)[product.id]["unit_price"] == "60.00"
    # when the window opens, with no write at all
    time.sleep(max(0.0, (now + timedelta(seconds=1.6) - timezone.now()).total_seconds()))
    # then the cart shows the discounted price
    assert lines(customer_client)[product.id]["unit_price"] == "30.00"


def test_every_change_of_the_lines_is_visible_on_the_next_read(pricing, rpc_mode, customer_client):
    user_id = customer_client.user.id
    lamp, bulb = new_product(), new_product()
    assert set(in_cart(customer_client, lamp)) == {lamp.id}

    carts_service.cart_item_add(user_id=user_id, product_id=bulb.id, quantity=2, available=5)
    assert {product_id: line["quantity"] for product_id, line in lines(customer_client).items()} == {
        lamp.id: 1, bulb.id: 2}

    carts_service.cart_item_set_quantity(user_id=user_id, product_id=bulb.id, quantity=4, available=5)
    assert lines(customer_client)[bulb.id]["quantity"] == 4

    carts_service.cart_item_remove(user_id=user_id, product_id=lamp.id)
    assert set(lines(customer_client)) == {bulb.id}

    order_id = uuid.uuid4()
    carts_service.cart_claim(user_id=user_id, order_id=order_id)
    assert lines(customer_client) == {}

    carts_service.cart_claim_release(order_id=order_id)
    assert lines(customer_client)[bulb.id]["quantity"] == 4

    carts_service.cart_clear(user_id=user_id)
    assert lines(customer_client) == {}


def test_a_cart_read_again_reads_no_database(settings, customer_client):
    # given a cart of three products, read once
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    products = [new_product() for _ in range(3)]
    first = customer_client.get(CART) if in_cart(customer_client, *products) else None
    # when it is read again with nothing changed
    with CaptureQueriesContext(connection) as queries:
        again = customer_client.get(CART)
    # then neither the cart nor its products were read from the database, and the answer is the same
    assert len(queries) == 0, [query["sql"] for query in queries]
    assert again.json() == first.json()


class CacheDown:
    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise ConnectionError("cache is down")

        return fail


def test_a_cart_is_read_and_priced_when_the_cache_is_down(settings, customer_client, monkeypatch):
    # given a cart read while the cache was up
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    product = new_product(price="10.00")
    in_cart(customer_client, product)
    # when every pricing cache operation fails (authentication and throttles keep their own cache here), the cached
    # answer's included, and so does the early read of that answer, which shares its round trip with the throttle's
    for module in (cart_cache, pricing_cache, cache_versions, cart_reads):
        monkeypatch.setattr(module, "cache", CacheDown())
    monkeypatch.setattr(cart_middleware, "count_user_request_early", CacheDown().count_user_request_early)
    products_service.product_update(product_id=product.id, changes=ProductChanges(price=Decimal("11.00")))
    carts_service.cart_item_add(user_id=customer_client.user.id, product_id=product.id, quantity=1, available=5)
    # then the cart is still read and priced, from the contexts
    line = lines(customer_client)[product.id]
    assert (line["unit_price"], line["quantity"]) == ("11.00", 2)
