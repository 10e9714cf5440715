"""The shop every security test attacks: two customers, Alice (the victim, who owns one of everything) and Bob
(the attacker, an ordinary customer), one client per staff role, and the objects the endpoints address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.gateway.composition import cart as cart_composition
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.orders import VoucherInput, VoucherKind, orders_service
from ecommerce.contracts.products import CategoryInput, ProductInput, products_service
from ecommerce.contracts.users import AddressInput, UserDTO, users_service
from ecommerce.roles import Role

ANONYMOUS = "anonymous"


@dataclass
class World:
    alice: UserDTO
    bob: UserDTO
    staff: dict[Role, UserDTO]
    alice_refresh: str
    clients: dict[str, APIClient]  # by role (Role.CUSTOMER is Bob), "alice" and ANONYMOUS
    category_id: int
    product_id: int
    address_id: int
    order_id: str
    payment_id: str
    alice_cart_product_id: int
    voucher_id: int
    voucher_code: str

    def client(self, who: str) -> APIClient:
        return self.clients[who]

    def users(self) -> list[UserDTO]:
        """Every account of the world: Alice, Bob, then one per staff role."""
        return [self.alice, self.bob, *self.staff.values()]

    def client_of(self, user: UserDTO) -> APIClient:
        return self.client("alice" if user == self.alice else user.role)


def _signed_in(user: UserDTO) -> tuple[APIClient, str]:
    tokens = users_service.auth_login(email=user.email, password=DEFAULT_PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    return client, tokens.refresh


def _address(user_id: int) -> int:
    return users_service.address_create(user_id=user_id, address=AddressInput(
        full_name="Alice Victim", street="1 Main St", city="Springfield", zip_code="62701", country="US")).id


def _checkout(client: APIClient, user_id: int, product_id: int) -> Any:
    cart_composition.cart_item_add(user_id=user_id, product_id=product_id, quantity=1)
    order = client.post("/api/v1/orders", {"address_id": _address(user_id)}, format="json",
                        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.content
    return order


def build_world(make_user: Any) -> World:
    alice, bob = make_user(Role.CUSTOMER), make_user(Role.CUSTOMER)
    clients: dict[str, APIClient] = {ANONYMOUS: APIClient()}
    alice_client, alice_refresh = _signed_in(alice)
    clients["alice"] = alice_client
    clients[Role.CUSTOMER] = _signed_in(bob)[0]
    staff = {role: make_user(role) for role in (Role.CATALOG_STAFF, Role.ORDER_STAFF, Role.ADMIN)}
    for role, user in staff.items():
        clients[role] = _signed_in(user)[0]

    category = products_service.category_create(category=CategoryInput(name=f"Secure {uuid.uuid4().hex[:6]}"))
    product = products_service.product_create(product=ProductInput(
        sku=f"SEC-{uuid.uuid4().hex[:8]}", name="Safe", price=Decimal("20.00"), stock=50, category=category.id))
    ordered = products_service.product_create(product=ProductInput(
        sku=f"SEC-{uuid.uuid4().hex[:8]}", name="Ordered", price=Decimal("10.00"), stock=50))

    products_service.category_create(category=CategoryInput(name=f"Secure {uuid.uuid4().hex[:6]}"))
    order = _checkout(alice_client, alice.id, ordered.id)
    _checkout(alice_client, alice.id, ordered.id)  # every list holds two or more
    payment = alice_client.post(f"/api/v1/orders/{order.json()['id']}/payments",
                                headers={"Idempotency-Key": uuid.uuid4().hex})
    assert payment.status_code == 201, payment.content
    # What Alice holds after checkout: an address and a cart line of her own.
    cart_composition.cart_item_add(user_id=alice.id, product_id=product.id, quantity=2)
    voucher, _ = (orders_service.voucher_create(voucher=VoucherInput(
        code=f"SEC{uuid.uuid4().hex[:8].upper()}", kind=VoucherKind.PERCENT, value=Decimal("10.00")))
        for _ in range(2))
    return World(voucher_id=voucher.id, voucher_code=voucher.code, alice=alice, bob=bob, staff=staff,
                 alice_refresh=alice_refresh, clients=clients, category_id=category.id,
                 product_id=product.id, address_id=_address(alice.id), order_id=order.json()["id"],
                 payment_id=payment.json()["id"], alice_cart_product_id=product.id)


def alice_snapshot(world: World) -> dict[str, Any]:
    """Everything Alice can see of her own: an attack that changes any of it has succeeded."""
    alice = world.client("alice")
    reads = {path: alice.get(path) for path in (
        "/api/v1/users/me", "/api/v1/users/me/addresses", "/api/v1/cart", "/api/v1/orders",
        f"/api/v1/payments/{world.payment_id}")}
    for path, response in reads.items():
        assert response.status_code == 200, (path, response.content)
    return {path: response.json() for path, response in reads.items()}
