"""The catalog over HTTP in both modes: public browsing with filters, staff management, stock adjustments and the
role checks around them."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from tests.e2e.conftest import Customer, assert_problem

pytestmark = pytest.mark.e2e


def test_anyone_browses_the_seeded_catalog(anonymous: httpx.Client) -> None:
    products = anonymous.get("/products", params={"page_size": 5})
    categories = anonymous.get("/categories")

    assert products.status_code == 200
    body = products.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 20
    assert len(body["results"]) == 5
    product = body["results"][0]
    assert product["currency"]
    assert isinstance(product["price"], str)
    assert Decimal(product["price"]).as_tuple().exponent == -2
    assert categories.status_code == 200
    assert categories.json()["count"] >= 6
    one = anonymous.get(f"/products/{product['id']}")
    assert one.json()["sku"] == product["sku"]


def test_search_filters_and_ordering(anonymous: httpx.Client, make_product) -> None:
    tag = uuid.uuid4().hex[:8]
    cheap = make_product(name=f"Zebra lamp {tag}", price="3.00", stock=0)
    dear = make_product(name=f"Zebra lamp deluxe {tag}", price="300.00", stock=4)

    found = anonymous.get("/products", params={"search": tag, "ordering": "-price"}).json()["results"]
    in_stock = anonymous.get("/products", params={"search": tag, "in_stock": "true"}).json()["results"]
    priced = anonymous.get("/products", params={"search": tag, "max_price": "10"}).json()["results"]

    assert [p["id"] for p in found] == [dear["id"], cheap["id"]]
    assert [p["id"] for p in in_stock] == [dear["id"]]
    assert [p["id"] for p in priced] == [cheap["id"]]


def test_catalog_staff_manages_categories_and_products(catalog_staff: httpx.Client, anonymous: httpx.Client) -> None:
    category = catalog_staff.post("/categories", json={"name": f"E2E {uuid.uuid4().hex[:6]}"})
    assert category.status_code == 201, category.text
    category_id = category.json()["id"]
    product = catalog_staff.post("/products", json={
        "sku": f"E2E-{uuid.uuid4().hex[:8]}", "name": "Walnut desk", "price": "199.00", "stock": 3,
        "category": category_id, "discount_type": "percent", "discount_value": "10.00",
    })
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]

    patched = catalog_staff.patch(f"/products/{product_id}", json={"name": "Oak desk", "stock": 999})
    category_in_use = catalog_staff.delete(f"/categories/{category_id}")
    hidden = catalog_staff.patch(f"/products/{product_id}", json={"is_active": False})

    assert product.json()["effective_price"] == "179.10"
    assert patched.json()["name"] == "Oak desk"
    assert patched.json()["stock"] == 3  # stock changes only through /stock, checkout and cancellation
    assert_problem(category_in_use, 409)
    assert hidden.status_code == 200
    assert_problem(anonymous.get(f"/products/{product_id}"), 404, "not_found")
    assert catalog_staff.get(f"/products/{product_id}").status_code == 200
    assert catalog_staff.delete(f"/products/{product_id}").status_code == 204
    assert catalog_staff.delete(f"/categories/{category_id}").status_code == 204


def test_stock_adjustments_and_their_floor(catalog_staff: httpx.Client, make_product) -> None:
    product = make_product(stock=5)

    received = catalog_staff.post(f"/products/{product['id']}/stock", json={"delta": 7})
    too_much = catalog_staff.post(f"/products/{product['id']}/stock", json={"delta": -100})

    assert received.status_code == 200, received.text
    assert received.json()["stock"] == 12
    assert_problem(too_much, 409)
    assert catalog_staff.get(f"/products/{product['id']}").json()["stock"] == 12


def test_roles_guard_catalog_writes(anonymous: httpx.Client, customer: Customer, make_product) -> None:
    product = make_product()
    body = {"sku": f"E2E-{uuid.uuid4().hex[:8]}", "name": "Nope", "price": "1.00"}

    assert_problem(anonymous.post("/products", json=body), 401, "not_authenticated")
    assert_problem(customer.api.post("/products", json=body), 403, "permission_denied")
    assert_problem(customer.api.post(f"/products/{product['id']}/stock", json={"delta": 1}), 403)
    assert_problem(customer.api.delete(f"/products/{product['id']}"), 403)


def test_bad_catalog_input_is_400_and_unknown_ids_404(catalog_staff: httpx.Client, anonymous: httpx.Client) -> None:
    no_price = catalog_staff.post("/products", json={"sku": f"E2E-{uuid.uuid4().hex[:8]}", "name": "X"})
    bad_money = catalog_staff.post("/products", json={"sku": f"E2E-{uuid.uuid4().hex[:8]}", "name": "X",
                                                      "price": "abc"})

    assert "price" in assert_problem(no_price, 400, "validation_error")["errors"]
    assert_problem(bad_money, 400, "validation_error")
    assert_problem(anonymous.get("/products/999999999"), 404, "not_found")
    assert_problem(anonymous.get("/categories/999999999"), 404, "not_found")
