"""The journeys' fixtures on a live shop (``tests.support.live_shop``): new customers, the demo staff's API clients,
products and addresses made through the public API. Imported by the conftest of each suite that drives the live
shop (not registered for the whole run: names like ``customer`` or ``make_product`` mean other things to the unit
tests)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.live_shop import USER_PASSWORD, Customer, Shop, unique_email


@pytest.fixture
def new_customer(shop: Shop) -> Iterator[Callable[[], Customer]]:
    clients: list[httpx.Client] = []

    def make() -> Customer:
        email = unique_email()
        with shop.client() as anonymous:
            registered = anonymous.post("/auth/register", json={"email": email, "password": USER_PASSWORD,
                                                                "name": "E2E Customer"})
        assert registered.status_code == 201, registered.text
        token = shop.login(email, USER_PASSWORD)
        client = shop.client(token)
        clients.append(client)
        return Customer(id=registered.json()["id"], email=email, token=token, api=client)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def customer(new_customer: Callable[[], Customer]) -> Customer:
    return new_customer()


@pytest.fixture
def catalog_staff(shop: Shop) -> Iterator[httpx.Client]:
    with shop.client(shop.staff_token("catalog@example.com")) as client:
        yield client


@pytest.fixture
def order_staff(shop: Shop) -> Iterator[httpx.Client]:
    with shop.client(shop.staff_token("orders@example.com")) as client:
        yield client


@pytest.fixture
def admin(shop: Shop) -> Iterator[httpx.Client]:
    with shop.client(shop.admin_token()) as client:
        yield client


@pytest.fixture
def anonymous(shop: Shop) -> Iterator[httpx.Client]:
    with shop.client() as client:
        yield client


@pytest.fixture
def make_product(catalog_staff: httpx.Client) -> Callable[..., dict[str, Any]]:
    def make(*, price: str = "20.00", stock: int = 10, **fields: Any) -> dict[str, Any]:
        sku = f"E2E-{uuid.uuid4().hex[:10].upper()}"
        body = {"sku": sku, "name": f"E2E product {sku}", "price": price, "stock": stock, **fields}
        response = catalog_staff.post("/products", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def address_of() -> Callable[[Customer], int]:
    def make(customer: Customer) -> int:
        response = customer.api.post("/users/me/addresses", json={
            "full_name": "Ann Example", "street": "1 Main St", "city": "Springfield", "state": "IL",
            "zip_code": "62701", "country": "US", "phone": "+15550100", "is_default": True,
        })
        assert response.status_code == 201, response.text
        return response.json()["id"]

    return make
