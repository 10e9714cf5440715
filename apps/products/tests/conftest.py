"""Fixtures of the products tests: categories and products built through the services, as the app itself does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from apps.products import services
from apps.products.models import Category, Product
from ecommerce.contracts.products import CategoryInput, ProductInput
from ecommerce.roles import Role

_numbers = count(1)


@pytest.fixture
def make_category(db: None) -> Callable[..., Category]:
    def make(name: str | None = None, *, parent: Category | None = None, **fields: Any) -> Category:
        return services.category_create(category=CategoryInput(
            name=name or f"Category {next(_numbers)}", parent=parent.pk if parent else None, **fields))

    return make


@pytest.fixture
def make_product(db: None) -> Callable[..., Product]:
    def make(name: str | None = None, *, price: str | Decimal = "10.00", stock: int = 10,
             category: Category | None = None, **fields: Any) -> Product:
        number = next(_numbers)
        fields.setdefault("sku", f"SKU-{number}")
        product = services.product_create(product=ProductInput(
            name=name or f"Product {number}", price=Decimal(price), stock=stock,
            category=category.pk if category else None, **fields))
        # Strictly increasing creation times, so "newest first" never depends on the clock's resolution.
        product.created_at = timezone.now() - timedelta(days=1) + timedelta(seconds=number)
        Product.objects.filter(pk=product.pk).update(created_at=product.created_at)
        return product

    return make


@pytest.fixture
def admin_client_for(make_user: Callable[..., Any]) -> Callable[[Role], Client]:
    """A test client signed in to the admin as a new user of the given role (and so of its group)."""

    def build(role: Role) -> Client:
        client = Client()
        user = get_user_model().objects.get(pk=make_user(role).id)
        client.force_login(user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return build
