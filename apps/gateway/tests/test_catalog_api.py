"""The public catalog API: every endpoint, who may call it (401 without a token, 403 without the role), every error
it answers, and that a refused request writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.gateway.tests.problems import assert_problem
from ecommerce import cache_versions
from ecommerce.contracts.products import (
    CATALOG_VERSION,
    CategoryInput,
    ProductFilter,
    ProductInput,
    StockLine,
    products_service,
)

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/categories"
PRODUCTS = "/api/v1/products"
PRODUCT_FIELDS = {"id", "sku", "name", "slug", "short_description", "description", "category", "price",
                  "discount_type", "discount_value", "discount_starts_at", "discount_ends_at", "effective_price",
                  "currency", "image_url", "stock", "is_active", "created_at", "updated_at"}
_numbers = count(1)


def product(*, price: str = "10.00", stock: int = 5, **fields):
    number = next(_numbers)
    fields.setdefault("sku", f"API-CAT-{number}")
    fields.setdefault("name", f"Catalog product {number}")
    return products_service.product_create(product=ProductInput(price=Decimal(price), stock=stock, **fields))


def category(name: str | None = None, **fields):
    return products_service.category_create(category=CategoryInput(name=name or f"Category {next(_numbers)}",
                                                                   **fields))


def all_products() -> list:
    return products_service.product_list(filters=ProductFilter(include_inactive=True), page_size=100).results


def category_count() -> int:
    return products_service.category_list(page_size=100).count


# --- categories -----------------------------------------------------------------------------------------------------

def test_anyone_lists_and_reads_categories(api_client):
    parent = category("Home")
    child = category("Lamps", parent=parent.id, description="Light")
    body = api_client.get(CATEGORIES, {"page_size": 1}).json()
    assert body["count"] == 2
    assert body["next"].endswith("page=2&page_size=1") or "page=2" in body["next"]
    assert body["results"] == [{"id": parent.id, "name": "Home", "slug": "home", "description": "", "parent": None}]
    response = api_client.get(f"{CATEGORIES}/{child.id}")
    assert response.status_code == 200
    assert response.json() == {"id": child.id, "name": "Lamps", "slug": "lamps", "description": "Light",
                               "parent": parent.id}


def test_unknown_category_is_404(api_client):
    assert_problem(api_client.get(f"{CATEGORIES}/999999"), 404, "not_found")


def test_catalog_staff_creates_a_category(catalog_client):
    parent = category("Home")
    response = catalog_client.post(CATEGORIES, {"name": "Desk Lamps", "parent": parent.id, "id": 777,
                                                "unknown": "ignored"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != 777
    assert (body["slug"], body["parent"]) == ("desk-lamps", parent.id)


def test_category_writes_need_a_token_then_the_role(api_client, customer_client):
    existing = category("Existing")
    for client, status, code in ((api_client, 401, "not_authenticated"), (customer_client, 403, "permission_denied")):
        assert_problem(client.post(CATEGORIES, {"name": "X"}, format="json"), status, code)
        assert_problem(client.patch(f"{CATEGORIES}/{existing.id}", {"name": "X"}, format="json"), status, code)
        assert_problem(client.delete(f"{CATEGORIES}/{existing.id}"), status, code)
    assert category_count() == 1
    assert products_service.category_get(category_id=existing.id).name == "Existing"


def test_bad_category_bodies_are_400_and_write_nothing(catalog_client):
    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 121}, "name"),
                        ({"name": "X", "slug": "not a slug"}, "slug"), ({"name": "X", "parent": "abc"}, "parent"),
                        ({"name": "X", "parent": 999999}, "parent")):
        problem = assert_problem(catalog_client.post(CATEGORIES, body, format="json"), 400, "validation_error")
        assert field in problem["errors"], body
    assert category_count() == 0


def test_catalog_staff_patches_a_category(catalog_client):
    parent = category("Parent")
    child = category("Child")
    response = catalog_client.patch(f"{CATEGORIES}/{child.id}", {"parent": parent.id, "description": "new"},
                                    format="json")
    assert response.status_code == 200
    assert (response.json()["parent"], response.json()["name"]) == (parent.id, "Child")
    cycle = catalog_client.patch(f"{CATEGORIES}/{parent.id}", {"parent": child.id}, format="json")
    assert "parent" in assert_problem(cycle, 400, "validation_error")["errors"]
    assert_problem(catalog_client.patch(f"{CATEGORIES}/999999", {"name": "x"}, format="json"), 404, "not_found")


def test_delete_category(catalog_client):
    empty = category("Empty")
    used = category("Used")
    product(category=used.id)
    assert catalog_client.delete(f"{CATEGORIES}/{empty.id}").status_code == 204
    problem = assert_problem(catalog_client.delete(f"{CATEGORIES}/{used.id}"), 409, "conflict")
    assert "product" in problem["detail"]
    assert products_service.category_get(category_id=used.id).id == used.id
    assert_problem(catalog_client.delete(f"{CATEGORIES}/{empty.id}"), 404, "not_found")


def test_category_list_query_count_does_not_grow_with_page_size(api_client):
    for _ in range(60):
        category()
    counts = []
    for page_size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(CATEGORIES, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- product reads --------------------------------------------------------------------------------------------------

def test_product_output_shape_and_money_strings(api_client, settings):
    settings.ECOMMERCE_CURRENCY = "EUR"
    created = product(price="19.99", stock=3, discount_type="percent", discount_value=Decimal("10"))
    body = api_client.get(f"{PRODUCTS}/{created.id}").json()
    assert set(body) == PRODUCT_FIELDS
    assert (body["price"], body["discount_value"], body["effective_price"]) == ("19.99", "10.00", "17.99")
    assert (body["currency"], body["stock"], body["discount_type"]) == ("EUR", 3, "percent")
    assert body["created_at"].endswith("Z")


def test_product_list_is_paginated_and_hides_inactive_from_the_public(api_client, customer_client, catalog_client,
                                                                      admin_client_api):
    visible = product()
    hidden = product(is_active=False)
    for client in (api_client, customer_client):
        body = client.get(PRODUCTS).json()
        assert (body["count"], [p["id"] for p in body["results"]]) == (1, [visible.id])
        assert_problem(client.get(f"{PRODUCTS}/{hidden.id}"), 404, "not_found")
    for client in (catalog_client, admin_client_api):
        assert client.get(PRODUCTS).json()["count"] == 2
        assert client.get(f"{PRODUCTS}/{hidden.id}").json()["is_active"] is False


def test_product_list_filters(api_client):
    home = category("Home")
    lamps = category("Lamps", parent=home.id)
    product(sku="LAMP", name="Desk Lamp", price="40.00", category=lamps.id, discount_type="fixed",
            discount_value=Decimal("30"))
    product(sku="SOFA", name="Sofa", price="25.00", category=home.id, stock=0)
    product(sku="HOSE", name="Garden Hose", price="15.00", description="for the lamp-lit garden")

    def skus(**params) -> list[str]:
        response = api_client.get(PRODUCTS, params)
        assert response.status_code == 200, response.content
        return [p["sku"] for p in response.json()["results"]]

    assert sorted(skus(category=home.id)) == ["LAMP", "SOFA"]
    assert skus(category=lamps.id) == ["LAMP"]
    assert skus(min_price="12", max_price="20") == ["HOSE"]
    assert skus(max_price="10.00") == ["LAMP"]
    assert sorted(skus(in_stock="true")) == ["HOSE", "LAMP"]
    assert skus(ordering="price") == ["LAMP", "HOSE", "SOFA"]
    assert skus(ordering="-name") == ["SOFA", "HOSE", "LAMP"]
    assert sorted(skus(search="lamp")) == ["HOSE", "LAMP"]
    assert skus(search="sofa", ordering="price") == ["SOFA"]


@pytest.mark.parametrize("params", [
    {"min_price": "abc"}, {"max_price": "-1"}, {"min_price": "1.234"}, {"ordering": "foo"}, {"category": "x"},
    {"category": "0"}, {"in_stock": "maybe"}, {"page": "0"}, {"page_size": "abc"},
    {"min_price": "20", "max_price": "10"},
])
def test_bad_product_filters_are_400(api_client, params):
    product()
    assert_problem(api_client.get(PRODUCTS, params), 400, "validation_error")


def test_page_past_the_end_is_404(api_client):
    product()
    assert_problem(api_client.get(PRODUCTS, {"page": 3}), 404, "not_found")


def test_unknown_product_is_404(api_client):
    assert_problem(api_client.get(f"{PRODUCTS}/999999"), 404, "not_found")


def test_product_list_query_count_does_not_grow_with_page_size(api_client):
    home = category()
    for _ in range(60):
        product(category=home.id)
    for params in ({}, {"category": home.id, "ordering": "-price", "min_price": "1"}):
        counts = []
        for page_size in (5, 50):
            cache_versions.bump(CATALOG_VERSION)  # nothing cached: both sizes pay the full price
            with CaptureQueriesContext(connection) as queries:
                response = api_client.get(PRODUCTS, {**params, "page_size": page_size})
            assert len(response.json()["results"]) == page_size
            counts.append(len(queries))
            # and the same page again is served from the cache without a query
            with CaptureQueriesContext(connection) as queries:
                assert api_client.get(PRODUCTS, {**params, "page_size": page_size}).status_code == 200
            assert len(queries) == 0
        assert counts[0] == counts[1], params


def test_product_detail_query_count_is_constant(api_client, django_assert_max_num_queries):
    created = product()
    with django_assert_max_num_queries(1):
        assert api_client.get(f"{PRODUCTS}/{created.id}").status_code == 200
    with django_assert_max_num_queries(0):
        assert api_client.get(f"{PRODUCTS}/{created.id}").status_code == 200


# --- product writes -------------------------------------------------------------------------------------------------

def valid_body(**fields) -> dict:
    return {"sku": "NEW-1", "name": "New Lamp", "price": "49.90", **fields}


def test_catalog_staff_creates_a_product_with_initial_stock(catalog_client):
    home = category("Home")
    starts = (timezone.now() - timedelta(days=1)).isoformat()
    response = catalog_client.post(PRODUCTS, valid_body(
        category=home.id, stock=12, discount_type="fixed", discount_value="9.90", discount_starts_at=starts,
        image_url="https://img.example.com/lamp.png", id=999, effective_price="0.01", created_at="2000-01-01T00:00:00Z",
        unknown_field="ignored"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != 999
    assert (body["slug"], body["stock"], body["effective_price"], body["category"]) == ("new-lamp", 12, "40.00",
                                                                                        home.id)
    assert not body["created_at"].startswith("2000")


def test_product_writes_need_a_token_then_the_role(api_client, customer_client, order_staff_client):
    existing = product(stock=5)
    for client, status, code in ((api_client, 401, "not_authenticated"), (customer_client, 403, "permission_denied"),
                                 (order_staff_client, 403, "permission_denied")):
        assert_problem(client.post(PRODUCTS, valid_body(), format="json"), status, code)
        assert_problem(client.put(f"{PRODUCTS}/{existing.id}", valid_body(), format="json"), status, code)
        assert_problem(client.patch(f"{PRODUCTS}/{existing.id}", {"name": "x"}, format="json"), status, code)
        assert_problem(client.delete(f"{PRODUCTS}/{existing.id}"), status, code)
        assert_problem(client.post(f"{PRODUCTS}/{existing.id}/stock", {"delta": 1}, format="json"), status, code)
    assert [p.id for p in all_products()] == [existing.id]
    stored = products_service.product_get(product_id=existing.id)
    assert (stored.name, stored.stock) == (existing.name, 5)


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "No sku", "price": "1.00"}, "sku"),
    (valid_body(price=None), "price"),
    (valid_body(price="-0.01"), "price"),
    (valid_body(price="1.999"), "price"),
    (valid_body(price="abc"), "price"),
    (valid_body(name="x" * 201), "name"),
    (valid_body(discount_type="bogus"), "discount_type"),
    (valid_body(discount_type="percent", discount_value="120"), "discount_value"),
    (valid_body(discount_type="fixed", discount_value="49.91"), "discount_value"),
    (valid_body(discount_type="fixed", discount_value="5", discount_starts_at="2030-01-02T00:00:00Z",
                discount_ends_at="2030-01-01T00:00:00Z"), "discount_ends_at"),
    (valid_body(category=999999), "category"),
    (valid_body(image_url="nope"), "image_url"),
    (valid_body(stock=-1), "stock"),
    (valid_body(slug="bad slug"), "slug"),
])
def test_bad_product_bodies_are_400_and_write_nothing(catalog_client, body, field):
    problem = assert_problem(catalog_client.post(PRODUCTS, body, format="json"), 400, "validation_error")
    assert field in problem["errors"]
    assert all_products() == []


def test_duplicate_sku_is_400(catalog_client):
    product(sku="DUP")
    problem = assert_problem(catalog_client.post(PRODUCTS, valid_body(sku="DUP"), format="json"), 400,
                             "validation_error")
    assert "sku" in problem["errors"]
    assert len(all_products()) == 1


def test_put_replaces_and_ignores_stock(catalog_client):
    existing = product(stock=5, description="old text")
    response = catalog_client.put(f"{PRODUCTS}/{existing.id}", valid_body(sku=existing.sku, stock=100, price="5.00"),
                                  format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["price"], body["stock"]) == ("New Lamp", "", "5.00", 5)
    missing = catalog_client.put(f"{PRODUCTS}/{existing.id}", {"name": "only"}, format="json")
    assert set(assert_problem(missing, 400, "validation_error")["errors"]) == {"sku", "price"}
    assert_problem(catalog_client.put(f"{PRODUCTS}/999999", valid_body(), format="json"), 404, "not_found")


def test_patch_changes_only_what_is_sent_and_ignores_stock(catalog_client):
    existing = product(stock=5, description="kept", price="10.00")
    response = catalog_client.patch(f"{PRODUCTS}/{existing.id}", {"price": "12.50", "stock": 99, "id": 5},
                                    format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["price"], body["description"], body["stock"]) == (existing.id, "12.50", "kept", 5)
    bad = catalog_client.patch(f"{PRODUCTS}/{existing.id}", {"price": "-3"}, format="json")
    assert_problem(bad, 400, "validation_error")
    assert products_service.product_get(product_id=existing.id).price == Decimal("12.50")
    assert_problem(catalog_client.patch(f"{PRODUCTS}/999999", {"name": "x"}, format="json"), 404, "not_found")


def test_staff_can_deactivate_and_reactivate(catalog_client, api_client):
    existing = product()
    catalog_client.patch(f"{PRODUCTS}/{existing.id}", {"is_active": False}, format="json")
    assert_problem(api_client.get(f"{PRODUCTS}/{existing.id}"), 404, "not_found")
    catalog_client.patch(f"{PRODUCTS}/{existing.id}", {"is_active": True}, format="json")
    assert api_client.get(f"{PRODUCTS}/{existing.id}").status_code == 200


def test_delete_product(catalog_client):
    never_ordered = product()
    assert catalog_client.delete(f"{PRODUCTS}/{never_ordered.id}").status_code == 204
    assert_problem(catalog_client.get(f"{PRODUCTS}/{never_ordered.id}"), 404, "not_found")
    assert_problem(catalog_client.delete(f"{PRODUCTS}/{never_ordered.id}"), 404, "not_found")


def test_delete_of_a_reserved_product_deactivates_it(catalog_client, api_client):
    ordered = product(stock=5)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=ordered.id, quantity=2)])
    assert catalog_client.delete(f"{PRODUCTS}/{ordered.id}").status_code == 204
    kept = catalog_client.get(f"{PRODUCTS}/{ordered.id}").json()
    assert (kept["is_active"], kept["stock"]) == (False, 3)
    assert_problem(api_client.get(f"{PRODUCTS}/{ordered.id}"), 404, "not_found")


# --- stock ----------------------------------------------------------------------------------------------------------

def test_stock_receive_and_write_off(catalog_client):
    existing = product(stock=5)
    response = catalog_client.post(f"{PRODUCTS}/{existing.id}/stock", {"delta": 7}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == PRODUCT_FIELDS
    assert response.json()["stock"] == 12
    assert catalog_client.post(f"{PRODUCTS}/{existing.id}/stock", {"delta": -12}, format="json").json()["stock"] == 0


def test_stock_never_below_reserved(catalog_client):
    existing = product(stock=5)
    products_service.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=existing.id, quantity=4)])
    response = catalog_client.post(f"{PRODUCTS}/{existing.id}/stock", {"delta": -2}, format="json")
    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["lines"] == [{"product_id": existing.id, "requested": 2, "available": 1}]
    assert products_service.product_get(product_id=existing.id).stock == 1


@pytest.mark.parametrize("body", [{}, {"delta": 0}, {"delta": "many"}, {"delta": 1.5}, {"delta": 10**12}])
def test_bad_stock_bodies_are_400(catalog_client, body):
    existing = product(stock=5)
    assert_problem(catalog_client.post(f"{PRODUCTS}/{existing.id}/stock", body, format="json"), 400,
                   "validation_error")
    assert products_service.product_get(product_id=existing.id).stock == 5


def test_stock_of_unknown_product_is_404(catalog_client):
    assert_problem(catalog_client.post(f"{PRODUCTS}/999999/stock", {"delta": 1}, format="json"), 404, "not_found")


def test_schema_documents_catalog_filters(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert {"search", "category", "min_price", "max_price", "in_stock", "ordering", "page", "page_size"} <= parameters
    assert "409" in schema["paths"]["/api/v1/categories/{category_id}"]["delete"]["responses"]
    assert "409" in schema["paths"]["/api/v1/products/{product_id}/stock"]["post"]["responses"]
