"""Test data for the orders context, made through the other contexts' contracts only (users, products, carts), as
the orders context itself sees them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.conf import settings

from apps.orders import services
from apps.orders.models import Order, Payment
from apps.orders.sandbox_processor.delivery import event_body
from apps.orders.sandbox_processor.models import WebhookEvent
from apps.orders.sandbox_processor.signatures import SIGNATURE_HEADER, signature_header
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import OrderDTO, OrderStatus, WebhookOutcome
from ecommerce.contracts.products import ProductDTO, ProductInput, products_service
from ecommerce.contracts.users import AddressDTO, AddressInput, UserDTO, users_service
from ecommerce.events.models import OutboxEvent
from tests.sandbox_webhooks import sandbox_webhooks  # noqa: F401 - the fixture, for every orders test


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


# --- payments -----------------------------------------------------------------------------------------------------
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def payment_for(order: Order, *, key: str | None = None) -> Payment:
    """A payment of ``order`` made as its owner makes one, with the provider in use."""
    result = services.payment_create(order_id=order.id, user_id=order.user_id, idempotency_key=key or uuid.uuid4().hex,
                                     request_fingerprint="payment-fingerprint")
    return Payment.objects.get(pk=result.payment.id)


def payment_confirm(payment: Payment, card_number: str = GOOD_CARD) -> WebhookEvent:
    """The shopper pays on the sandbox's page; returns the webhook event the processor now owes the shop."""
    services.payment_confirm(payment_id=payment.id, user_id=payment.order.user_id, card_number=card_number)
    return WebhookEvent.objects.order_by("-created_at").first()


def signed(event: WebhookEvent | bytes, *, secrets: list[str] | None = None,
           timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers the processor would post for ``event`` (or any body), as the shop receives them."""
    body = event if isinstance(event, bytes) else event_body(event)
    header = signature_header(body, secrets=settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS if secrets is None else secrets,
                              timestamp=timestamp)
    return body, {SIGNATURE_HEADER.lower(): header}


def receive(body: bytes, headers: dict[str, str], provider: str = "sandbox") -> WebhookOutcome:
    return services.payment_webhook_receive(provider=provider, body=body, headers=headers).outcome


def rewritten(event: WebhookEvent, **object_changes: Any) -> bytes:
    """``event``'s body with fields of its object changed (as a processor that misbehaves would send it)."""
    payload = json.loads(event_body(event))
    payload["data"]["object"].update(object_changes)
    return json.dumps(payload).encode()


def outbox_types() -> list[str]:
    return list(OutboxEvent.objects.order_by("occurred_at", "id").values_list("type", flat=True))


@pytest.fixture
def paid_order(place_order) -> Callable[..., Order]:
    """A pending order paid through the sandbox: payment, good card, webhook applied."""

    def pay(*, product: ProductDTO | None = None) -> Order:
        order = place_order(product=product)
        body, headers = signed(payment_confirm(payment_for(order)))
        assert receive(body, headers) == WebhookOutcome.APPLIED
        return Order.objects.get(pk=order.id)

    return pay
