"""Cached catalog reads are never stale: every change of a product, its price, discount, stock, activity, category,
text or existence is visible on the very next read of the list and of the product, for anonymous users and staff,
with the cache on and off, in-process and through the loopback RPC path; so is a discount window that opens or
closes with the passage of time. Each test first reads (so the answer is cached), then changes, then reads again."""

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

from apps.gateway import edge, served
from apps.gateway.api import catalog_reads
from apps.products import selectors
from apps.products.invalidation import catalog_changed
from apps.products.models import Product, StockReservation
from apps.products.services import stock_release_stale
from ecommerce import cache_versions
from ecommerce.contracts.products import CategoryInput, ProductInput, StockLine, products_service
from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products"
_numbers = count(1)


@pytest.fixture(params=["cached", "uncached"])
def catalog_cache(request: pytest.FixtureRequest, settings) -> str:
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300 if request.param == "cached" else 0
    return request.param


def new_product(*, price: str = "10.00", stock: int = 5, **fields):
    number = next(_numbers)
    fields.setdefault("sku", f"CACHE-{number}")
    fields.setdefault("name", f"Cached product {number}")
    return products_service.product_create(product=ProductInput(price=Decimal(price), stock=stock, **fields))


def listed(client, **params) -> dict[int, dict]:
    response = client.get(PRODUCTS, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return {item["id"]: item for item in response.json()["results"]}


def detail(client, product_id: int):
    return client.get(f"{PRODUCTS}/{product_id}")


def read_both(client, product_id: int, **params) -> tuple[dict | None, dict | None]:
    """The product as the list shows it and as its own URL shows it (None where it is not shown)."""
    item = listed(client, **params).get(product_id)
    response = detail(client, product_id)
    return item, (response.json() if response.status_code == 200 else None)


def test_a_price_change_is_visible_on_the_next_read(catalog_cache, rpc_mode, api_client, catalog_client):
    product = new_product(price="10.00")
    assert read_both(api_client, product.id)[0]["price"] == "10.00"

    response = catalog_client.patch(f"{PRODUCTS}/{product.id}", {"price": "12.50"}, format="json")
    assert response.status_code == 200

    item, single = read_both(api_client, product.id)
    assert (item["price"], item["effective_price"]) == ("12.50", "12.50")
    assert (single["price"], single["effective_price"]) == ("12.50", "12.50")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"discount_value": "50.00"}, "5.00"),
    ({"discount_type": "fixed", "discount_value": "3.00"}, "7.00"),
    ({"discount_starts_at": "1999-01-01T00:00:00Z", "discount_ends_at": "2000-01-01T00:00:00Z"}, "10.00"),
])
def test_a_discount_change_is_visible_on_the_next_read(catalog_cache, api_client, catalog_client, changes, expected):
    product = new_product(price="10.00", discount_type="percent", discount_value=Decimal("10"))
    assert read_both(api_client, product.id)[1]["effective_price"] == "9.00"
    assert read_both(api_client, product.id, max_price="9.50")[0] is not None

    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", changes, format="json").status_code == 200

    item, single = read_both(api_client, product.id)
    assert item["effective_price"] == single["effective_price"] == expected
    by_price = listed(api_client, max_price="9.50")
    assert (product.id in by_price) == (Decimal(expected) <= Decimal("9.50"))


def test_a_discount_window_opening_and_closing_is_visible_without_any_write(catalog_cache, api_client):
    # given a product whose discount starts in a moment and ends a moment later, and one already on the page
    now = timezone.now()
    soon = new_product(price="60.00", discount_type="fixed", discount_value=Decimal("30"),
                       discount_starts_at=now + timedelta(seconds=1.5), discount_ends_at=now + timedelta(seconds=3))
    cheap = new_product(price="20.00")
    assert read_both(api_client, soon.id)[1]["effective_price"] == "60.00"
    assert set(listed(api_client, max_price="50.00")) == {cheap.id}

    # when the window opens, with no write at all
    time.sleep(max(0.0, (now + timedelta(seconds=1.6) - timezone.now()).total_seconds()))
    # then the discounted price is shown, and a price filter that depends on it lets the product in
    assert read_both(api_client, soon.id)[1]["effective_price"] == "30.00"
    assert listed(api_client)[soon.id]["effective_price"] == "30.00"
    assert set(listed(api_client, max_price="50.00")) == {cheap.id, soon.id}

    # and when it closes, the full price is back
    time.sleep(max(0.0, (now + timedelta(seconds=3.1) - timezone.now()).total_seconds()))
    assert read_both(api_client, soon.id)[1]["effective_price"] == "60.00"
    assert set(listed(api_client, max_price="50.00")) == {cheap.id}


def test_a_stock_adjustment_is_visible_on_the_next_read(catalog_cache, rpc_mode, api_client, catalog_client):
    product = new_product(stock=5)
    item, single = read_both(api_client, product.id)
    assert item["stock"] == single["stock"] == 5
    before = single["updated_at"]

    assert catalog_client.post(f"{PRODUCTS}/{product.id}/stock", {"delta": -5}, format="json").status_code == 200

    item, single = read_both(api_client, product.id)
    assert item["stock"] == single["stock"] == 0
    assert item["updated_at"] == single["updated_at"] != before
    assert product.id not in listed(api_client, in_stock="true")
    assert product.id in listed(api_client, in_stock="false")


def test_reservation_release_commit_and_expiry_are_visible_on_the_next_read(catalog_cache, rpc_mode, api_client):
    product = new_product(stock=10)
    assert read_both(api_client, product.id)[0]["stock"] == 10

    reserved, committed, expired = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    products_service.stock_reserve(order_id=reserved, lines=[StockLine(product_id=product.id, quantity=3)])
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [7, 7]

    products_service.stock_release(order_id=reserved)
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [10, 10]

    products_service.stock_reserve(order_id=committed, lines=[StockLine(product_id=product.id, quantity=4)])
    products_service.stock_commit(order_id=committed)
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [6, 6]

    products_service.stock_reserve(order_id=expired, lines=[StockLine(product_id=product.id, quantity=6)])
    assert product.id not in listed(api_client, in_stock="true")
    StockReservation.objects.filter(order_id=expired).update(created_at=timezone.now() - timedelta(hours=1))
    assert stock_release_stale() == 1
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [6, 6]
    assert product.id in listed(api_client, in_stock="true")


def test_checkout_and_cancel_through_the_api_are_visible_on_the_next_read(catalog_cache, api_client, client_for):
    product = new_product(stock=4)
    buyer = client_for(Role.CUSTOMER)
    address = users_service.address_create(user_id=buyer.user.id, address=AddressInput(
        full_name="Ada Lovelace", street="1 Engine Row", city="London", state="LDN", zip_code="N1 1AA",
        country="GB", phone="+44 20 0000 0000"))
    assert read_both(api_client, product.id)[0]["stock"] == 4

    assert buyer.post("/api/v1/cart/items", {"product_id": product.id, "quantity": 3},
                      format="json").status_code == 201
    order = buyer.post("/api/v1/orders", {"address_id": address.id}, format="json",
                       headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.content
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [1, 1]

    assert buyer.post(f"/api/v1/orders/{order.json()['id']}/cancel").status_code == 200
    assert [stock["stock"] for stock in read_both(api_client, product.id)] == [4, 4]


def test_deactivation_hides_the_product_from_everyone_but_staff_at_once(catalog_cache, rpc_mode, api_client,
                                                                        catalog_client):
    product = new_product()
    assert read_both(api_client, product.id) != (None, None)
    assert read_both(catalog_client, product.id)[0]["is_active"] is True

    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", {"is_active": False}, format="json").status_code == 200

    assert read_both(api_client, product.id) == (None, None)
    item, single = read_both(catalog_client, product.id)
    assert item["is_active"] is single["is_active"] is False
    # and back again
    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", {"is_active": True}, format="json").status_code == 200
    assert read_both(api_client, product.id)[1]["is_active"] is True


def test_staff_and_anonymous_answers_are_never_shared(catalog_cache, api_client, catalog_client, customer_client):
    shown, hidden = new_product(), new_product(is_active=False)
    # staff read first, so their answer is the one cached
    assert set(listed(catalog_client)) == {shown.id, hidden.id}
    assert detail(catalog_client, hidden.id).status_code == 200
    # then nobody else sees what only staff may see
    for client in (api_client, customer_client):
        assert set(listed(client)) == {shown.id}
        assert detail(client, hidden.id).status_code == 404
    # and the other way round: anonymous first, staff still see everything
    assert set(listed(catalog_client)) == {shown.id, hidden.id}


def test_text_sku_and_category_changes_are_visible_on_the_next_read(catalog_cache, rpc_mode, api_client,
                                                                    catalog_client):
    home = products_service.category_create(category=CategoryInput(name="Home"))
    lamps = products_service.category_create(category=CategoryInput(name="Lamps"))
    product = new_product(name="Plain Lamp", category=lamps.id)
    assert product.id in listed(api_client, category=lamps.id)
    assert product.id not in listed(api_client, category=home.id)
    assert product.id not in listed(api_client, search="lantern")

    changes = {"name": "Brass Lantern", "sku": "LANTERN-1", "description": "Warm light", "category": home.id}
    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", changes, format="json").status_code == 200

    item, single = read_both(api_client, product.id)
    assert {key: item[key] for key in changes} == {key: single[key] for key in changes} == changes
    assert product.id in listed(api_client, search="lantern")
    assert product.id in listed(api_client, category=home.id)
    assert product.id not in listed(api_client, category=lamps.id)

    # moving a whole category under another changes what the parent's listing includes
    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", {"category": lamps.id}, format="json").status_code == 200
    assert product.id not in listed(api_client, category=home.id)
    assert catalog_client.patch(f"/api/v1/categories/{lamps.id}", {"parent": home.id},
                                format="json").status_code == 200
    assert product.id in listed(api_client, category=home.id)


def test_a_deleted_or_new_product_is_visible_on_the_next_read(catalog_cache, rpc_mode, api_client, catalog_client):
    product = new_product()
    before = api_client.get(PRODUCTS).json()["count"]
    assert detail(api_client, product.id).status_code == 200

    assert catalog_client.delete(f"{PRODUCTS}/{product.id}").status_code == 204
    assert read_both(api_client, product.id) == (None, None)
    assert api_client.get(PRODUCTS).json()["count"] == before - 1

    added = new_product()
    assert api_client.get(PRODUCTS).json()["count"] == before
    assert added.id in listed(api_client)


def test_writes_that_bypass_the_services_still_invalidate(api_client):
    # given a cached product
    product = new_product(price="10.00")
    assert read_both(api_client, product.id)[1]["price"] == "10.00"
    # when someone saves the model directly (an admin form, a shell), the save signal invalidates
    row = Product.objects.get(pk=product.id)
    row.price = Decimal("11.00")
    row.save()
    assert [item["price"] for item in read_both(api_client, product.id)] == ["11.00", "11.00"]
    # and an explicit bump is what bulk updates must do (the admin's deactivate action does)
    Product.objects.filter(pk=product.id).update(name="Renamed in bulk")
    catalog_changed()
    assert read_both(api_client, product.id)[1]["name"] == "Renamed in bulk"


def test_a_sale_does_not_throw_away_a_cached_page(api_client, settings):
    # given a cached page of twenty products
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    products = [new_product(stock=5) for _ in range(20)]
    assert len(listed(api_client)) == 20
    # when one of them sells
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=products[0].id, quantity=2)])
    # then the next read asks only for the page's stock (one query) and shows the sale
    with CaptureQueriesContext(connection) as queries:
        assert listed(api_client)[products[0].id]["stock"] == 3
    assert len(queries) == 1
    # and the read after that is served from the cache alone
    with CaptureQueriesContext(connection) as queries:
        assert listed(api_client)[products[0].id]["stock"] == 3
    assert len(queries) == 0


def test_etag_answers_304_until_the_product_changes(api_client, catalog_client):
    product = new_product(price="10.00")
    for url in (PRODUCTS, f"{PRODUCTS}/{product.id}"):
        first = api_client.get(url)
        etag = first["ETag"]
        assert first["Vary"] == "Authorization"
        again = api_client.get(url, headers={"If-None-Match": etag})
        assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
        assert api_client.get(url, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304

    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", {"price": "9.00"}, format="json").status_code == 200
    for url in (PRODUCTS, f"{PRODUCTS}/{product.id}"):
        changed = api_client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed["ETag"] != etag


class CacheDown:
    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise ConnectionError("cache is down")

        return fail


def test_reads_and_writes_still_work_when_the_cache_is_down(api_client, catalog_client, monkeypatch, settings):
    # given a product read while the cache was up
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    product = new_product(price="10.00")
    assert read_both(api_client, product.id)[1]["price"] == "10.00"
    # when every catalog cache operation fails (throttles keep their own cache here)
    for module in (catalog_reads, cache_versions, selectors):
        monkeypatch.setattr(module, "cache", CacheDown())
    monkeypatch.setattr(edge, "count_anonymous_client", CacheDown().count_anonymous_client)
    monkeypatch.setattr(served, "redis_connection", CacheDown().redis_connection)
    # then writes and reads still answer, from the database
    assert catalog_client.patch(f"{PRODUCTS}/{product.id}", {"price": "11.00"}, format="json").status_code == 200
    assert [item["price"] for item in read_both(api_client, product.id)] == ["11.00", "11.00"]
    assert api_client.get(PRODUCTS, {"min_price": "1"}).json()["count"] == 1


def test_the_edge_answers_what_the_views_answered_and_counts_it_once(api_client, settings):
    # given answers the views rendered (the first reads miss the edge)
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    product = new_product()
    urls = [PRODUCTS, f"{PRODUCTS}?page_size=1&ordering=price", f"{PRODUCTS}/{product.id}"]
    first = [api_client.get(url) for url in urls]
    assert not any(getattr(answer, "answered_by_edge", False) for answer in first)
    # when the same reads come again
    with CaptureQueriesContext(connection) as queries:
        again = [api_client.get(url) for url in urls]
    # then the edge answered them, without the database, byte for byte as the views did, headers included
    assert len(queries) == 0
    for view_answer, edge_answer in zip(first, again, strict=True):
        assert getattr(edge_answer, "answered_by_edge", False)
        assert edge_answer.status_code == view_answer.status_code == 200
        assert edge_answer.content == view_answer.content
        assert sorted(edge_answer.headers) == sorted(view_answer.headers)
        for name, value in view_answer.headers.items():
            if name != "X-Request-ID":
                assert edge_answer[name] == value, name
        assert edge_answer["X-Request-ID"] != view_answer["X-Request-ID"]
    # and a tag the client holds is answered 304 without a body, a HEAD without one either
    etag = again[0]["ETag"]
    not_modified = api_client.get(PRODUCTS, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content, not_modified["ETag"]) == (304, b"", etag)
    assert getattr(not_modified, "answered_by_edge", False)
    head = api_client.head(PRODUCTS)
    assert (head.status_code, head.content, head["ETag"]) == (200, b"", etag)

    # and every request counts once against the anonymous limit: a miss the edge counted and passed on is not
    # counted again by the views, an edge answer counts like a view's
    settings.ECOMMERCE_THROTTLE_ANON = "3/min"
    newcomer = {"REMOTE_ADDR": "203.0.113.7"}
    fresh = f"{PRODUCTS}?page_size=2"
    answers = [api_client.get(fresh, **newcomer) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [getattr(answer, "answered_by_edge", False) for answer in answers] == [False, True, True]
    refused = api_client.get(fresh, **newcomer)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) >= 1


def test_the_edge_never_answers_staff_or_signed_in_callers(api_client, catalog_client, settings):
    # given a list the edge would answer an anonymous caller
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    new_product()
    api_client.get(PRODUCTS)
    assert getattr(api_client.get(PRODUCTS), "answered_by_edge", False)
    hidden = new_product(is_active=False)
    # when catalog staff read it, with their token
    staff_view = catalog_client.get(PRODUCTS, {"page_size": 100})
    # then Django answered, with the inactive product only staff see, and the anonymous answer still hides it
    assert hidden.id in {item["id"] for item in staff_view.json()["results"]}
    assert hidden.id not in listed(api_client)




def test_the_edge_reads_a_body_once_and_trusts_only_the_one_its_stamp_names(api_client, settings):
    # given a product list the views served (its body kept apart from its stamp)
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300
    new_product()
    served_by_views = api_client.get(PRODUCTS)
    etag = served_by_views["ETag"]
    body_key = served.raw_key(served.body_key(etag))
    redis = served.redis_connection()
    edge_first = api_client.handler.edge
    # when the edge answers it the first time, it reads the body from the shared cache and keeps it
    answer = api_client.get(PRODUCTS)
    assert getattr(answer, "answered_by_edge", False)
    assert answer.content == served_by_views.content
    assert edge_first.bodies.get(etag) == served_by_views.content
    # then, with the shared copy gone, the edge still answers from its own, and asks the database nothing
    redis.delete(body_key)
    with CaptureQueriesContext(connection) as queries:
        again = api_client.get(PRODUCTS)
    assert (getattr(again, "answered_by_edge", False), again.content, len(queries)) == (
        True, served_by_views.content, 0)
    # and a 304 or a HEAD needs no body at all, even in a process that never held it
    edge_first.bodies = edge.RecentBodies(edge.BODY_MEMORY_BYTES)
    not_modified = api_client.get(PRODUCTS, headers={"If-None-Match": etag})
    head = api_client.head(PRODUCTS)
    assert [(r.status_code, getattr(r, "answered_by_edge", False)) for r in (not_modified, head)] == [
        (304, True), (200, True)]
    assert head["Content-Length"] == str(len(served_by_views.content))
    # but a GET it cannot find the body of goes on to the views, which serve (and keep) it again
    from_views = api_client.get(PRODUCTS)
    assert (getattr(from_views, "answered_by_edge", False), from_views.content) == (False, served_by_views.content)
    assert redis.get(body_key) == served_by_views.content
    # and a shared body that is not the one the stamp names (damaged, or written by anything else) is never sent
    redis.set(body_key, served_by_views.content.replace(b'"count":1', b'"count":9'))
    edge_first.bodies = edge.RecentBodies(edge.BODY_MEMORY_BYTES)
    refused = api_client.get(PRODUCTS)
    assert (getattr(refused, "answered_by_edge", False), refused.content) == (False, served_by_views.content)
