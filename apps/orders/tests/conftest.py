"""Test data for the orders context, made through the other contexts' contracts only (users, products, carts), as
the orders context itself sees them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from apps.orders import services
from apps.orders.models import Order
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import OrderDTO, OrderStatus
from ecommerce.contracts.products import ProductDTO, ProductInput, products_service
from ecommerce.contracts.users import AddressDTO, AddressInput, UserDTO, users_service


@pytest.fixture
def make_product(db: None) -> Callable[..., ProductDTO]:
    numbers = count(1)

    def make(*, price: str = "10.00", stock: int = 10, **fields: Any) -> ProductDTO:
        number = next(numbers)
        fields.setdefault("sku", f"ORD-SKU-{number}")
        fields.setdefault("name", f"Order test product {number}")
        return products_service.product_create(product=ProductInput(price=Decimal(price), stock=stock, **fields))

    return make


@pytest.fixture
def make_address() -> Callable[..., AddressDTO]:
    def make(user_id: int, **fields: Any) -> AddressDTO:
        values = {"full_name": "Ada Lovelace", "street": "12 Analytical Row", "city": "London", "state": "",
                  "zip_code": "N1 9GU", "country": "GB", "phone": "+44 20 7946 0000", **fields}
        return users_service.address_create(user_id=user_id, address=AddressInput(**values))

    return make


@pytest.fixture
def shopper(make_user: Callable[..., UserDTO], make_address: Callable[..., AddressDTO]):
    """A customer with one address."""
    user = make_user()
    return user, make_address(user.id)


def available(product: ProductDTO) -> int:
    return products_service.product_get(product_id=product.id, include_inactive=True).stock


def fill_cart(user_id: int, *lines: tuple[ProductDTO, int]) -> None:
    """As the shop's API adds lines: checked against what the catalog has available now."""
    for product, quantity in lines:
        carts_service.cart_item_add(user_id=user_id, product_id=product.id, quantity=quantity,
                                    available=available(product))


@dataclass(frozen=True)
class Checkout:
    order: Order
    answer: OrderDTO
    replayed: bool


def checkout(user: UserDTO, address: AddressDTO, *, key: str | None = None,
             fingerprint: str = "fingerprint-1") -> Checkout:
    """A checkout through the service; ``order`` is the stored order, ``answer`` what the checkout answered."""
    result = services.order_checkout(user_id=user.id, address_id=address.id,
                                     idempotency_key=key or uuid.uuid4().hex, request_fingerprint=fingerprint)
    return Checkout(order=Order.objects.get(pk=result.order.id), answer=result.order, replayed=result.replayed)


@pytest.fixture
def place_order(shopper, make_product: Callable[..., ProductDTO]) -> Callable[..., Order]:
    """A real checkout by ``shopper`` of two units of a fresh product, then walked to the wanted status."""
    paths = {
        OrderStatus.PENDING: [],
        OrderStatus.PAID: [OrderStatus.PAID],
        OrderStatus.SHIPPED: [OrderStatus.PAID, OrderStatus.SHIPPED],
        OrderStatus.DELIVERED: [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
        OrderStatus.CANCELED: [OrderStatus.CANCELED],
    }

    def place(status: OrderStatus = OrderStatus.PENDING, *, product: ProductDTO | None = None) -> Order:
        user, address = shopper
        fill_cart(user.id, (product or make_product(), 2))
        order = checkout(user, address).order
        for step in paths[status]:
            order = services.order_transition(order_id=order.id, status=step, actor_id=None)
        return order

    return place


class ContractProxy:
    """Stands in for a contract singleton as the orders services see it: the given methods are replaced (to make
    a step fail), every other call goes to the real contract."""

    def __init__(self, target: Any, **replacements: Callable[..., Any]) -> None:
        self.target = target
        self.replacements = replacements

    def __getattr__(self, name: str) -> Any:
        return self.replacements.get(name) or getattr(self.target, name)


def fail_once(real: Callable[..., Any], error: Exception) -> Callable[..., Any]:
    """The first call raises ``error``; later calls reach ``real``."""
    calls: list[dict[str, Any]] = []

    def call(**arguments: Any) -> Any:
        calls.append(arguments)
        if len(calls) == 1:
            raise error
        return real(**arguments)

    call.calls = calls  # type: ignore[attr-defined]
    return call
