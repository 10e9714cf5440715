"""Catalog data for cart tests is made through the products contract only, as any other context would."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from ecommerce.contracts.products import ProductDTO, ProductInput, products_service


@pytest.fixture
def make_product(db: None) -> Callable[..., ProductDTO]:
    numbers = count(1)

    def make(*, price: str = "10.00", stock: int = 5, **fields: Any) -> ProductDTO:
        number = next(numbers)
        fields.setdefault("sku", f"CART-SKU-{number}")
        fields.setdefault("name", f"Cart test product {number}")
        return products_service.product_create(product=ProductInput(price=Decimal(price), stock=stock, **fields))

    return make


class CallCounter:
    """Wraps the products contract to count how often the carts context calls it."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.target, name)

        def counted(**arguments: Any) -> Any:
            self.calls.append(name)
            return method(**arguments)

        return counted


@pytest.fixture
def products_calls(monkeypatch: pytest.MonkeyPatch) -> CallCounter:
    counter = CallCounter(products_service)
    monkeypatch.setattr("apps.carts.selectors.products_service", counter)
    monkeypatch.setattr("apps.carts.services.products_service", counter)
    return counter
