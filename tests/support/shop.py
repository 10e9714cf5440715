"""A real order placed through the public API, for tests that follow its events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from ecommerce.contracts.users import UserDTO
from ecommerce.roles import Role


def place_order(client_for: Callable[..., APIClient], customer: UserDTO, *, price: str = "12.50",
                quantity: int = 2, catalog: APIClient | None = None) -> dict[str, Any]:
    """``customer`` buys ``quantity`` of a new product; returns the order as the API answered it (201)."""
    catalog = catalog or client_for(Role.CATALOG_STAFF)
    sku = f"EVT-{uuid.uuid4().hex[:8].upper()}"
    product = catalog.post("/api/v1/products", {"sku": sku, "name": f"Teapot {sku}", "price": price, "stock": 50},
                           format="json")
    assert product.status_code == 201, product.content
    shopper = client_for(customer)
    address = shopper.post("/api/v1/users/me/addresses", {
        "full_name": "Ann Example", "street": "1 Main St", "city": "Springfield", "zip_code": "62701",
        "country": "US", "is_default": True}, format="json")
    assert address.status_code == 201, address.content
    added = shopper.post("/api/v1/cart/items", {"product_id": product.json()["id"], "quantity": quantity},
                         format="json")
    assert added.status_code == 201, added.content
    order = shopper.post("/api/v1/orders", {"address_id": address.json()["id"]}, format="json",
                         HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert order.status_code == 201, order.content
    return order.json()
