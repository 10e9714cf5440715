"""The security suite's table: every operation of the public API, who may call it, and how to call it well.

Each module of the suite walks this table; ``test_inventory.py`` fails while the URLconf or the OpenAPI document has
an operation the table lacks (or the table names one that is gone). Adding an endpoint therefore means adding one
line here:

    "POST /api/v1/things/{thing_id}/frob": Endpoint(Audience.OWNER, lambda w: Call(
        f"/api/v1/things/{w.thing_id}/frob", {"level": 3})),

- ``Audience`` says who may call it: anyone; any signed-in user acting on their own things (``SIGNED_IN``); the
  owner of the object its path names (``OWNER``: another customer gets 404); a staff role (``CATALOG_STAFF``,
  ``ORDER_STAFF``, ``ADMIN``; an admin may call every staff endpoint); a payment provider (``PROVIDER``: signed
  bodies, no token).
- The ``Call`` is a request that the audience would make successfully, built from the ``World`` (Alice's objects,
  ``world.py``; add the object your endpoint needs there). The path and body are Alice's: Bob replays them in the
  BOLA tests, every other role in the BFLA tests, forged tokens in the token tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tests.security.world import World

V1 = "/api/v1"
STRONG_PASSWORD = "An-Unguessable-Passphrase-77"


class Audience(StrEnum):
    ANYONE = "anyone"
    SIGNED_IN = "signed_in"
    OWNER = "owner"
    CATALOG_STAFF = "catalog_staff"
    ORDER_STAFF = "order_staff"
    ADMIN = "admin"
    PROVIDER = "provider"


STAFF_AUDIENCES = {Audience.CATALOG_STAFF, Audience.ORDER_STAFF, Audience.ADMIN}


@dataclass(frozen=True)
class Call:
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    audience: Audience
    call: Callable[[World], Call]


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _address(**changes: Any) -> dict[str, Any]:
    return {"full_name": "Bob Attacker", "street": "2 Side St", "city": "Shelbyville", "zip_code": "62565",
            "country": "US", **changes}


def _product(**changes: Any) -> dict[str, Any]:
    return {"sku": f"SEC-NEW-{uuid.uuid4().hex[:8]}", "name": "New", "price": "5.00", **changes}


ENDPOINTS: dict[str, Endpoint] = {
    # accounts
    "POST /api/v1/auth/register": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/register", {"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": STRONG_PASSWORD,
                                "name": "New"})),
    "POST /api/v1/auth/login": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/login", {"email": w.alice.email, "password": "not-her-password"})),
    "POST /api/v1/auth/refresh": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/refresh", {"refresh": "not-a-token"})),
    "POST /api/v1/auth/logout": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/auth/logout", {"refresh": w.alice_refresh})),
    "POST /api/v1/auth/verify-email": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/verify-email", {"token": "forged"})),
    "POST /api/v1/auth/verify-email/resend": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/auth/verify-email/resend")),
    "POST /api/v1/auth/password/change": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/auth/password/change", {"old_password": "not-the-password", "new_password": STRONG_PASSWORD})),
    "POST /api/v1/auth/password/reset": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/password/reset", {"email": w.alice.email})),
    "POST /api/v1/auth/password/reset/confirm": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/auth/password/reset/confirm", {"uid": "MQ", "token": "forged", "new_password": STRONG_PASSWORD})),
    "GET /api/v1/users/me": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/users/me")),
    "PATCH /api/v1/users/me": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/users/me", {"name": "Renamed"})),
    "GET /api/v1/users/me/addresses": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/users/me/addresses")),
    "POST /api/v1/users/me/addresses": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/users/me/addresses", _address())),
    "GET /api/v1/users/me/addresses/{address_id}": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/users/me/addresses/{w.address_id}")),
    "PUT /api/v1/users/me/addresses/{address_id}": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/users/me/addresses/{w.address_id}", _address())),
    "PATCH /api/v1/users/me/addresses/{address_id}": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/users/me/addresses/{w.address_id}", {"city": "Capital City"})),
    "DELETE /api/v1/users/me/addresses/{address_id}": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/users/me/addresses/{w.address_id}")),
    "GET /api/v1/users": Endpoint(Audience.ADMIN, lambda w: Call(f"{V1}/users")),
    "GET /api/v1/users/{user_id}": Endpoint(Audience.ADMIN, lambda w: Call(f"{V1}/users/{w.alice.id}")),
    "PATCH /api/v1/users/{user_id}": Endpoint(Audience.ADMIN, lambda w: Call(
        f"{V1}/users/{w.alice.id}", {"name": "Renamed by staff"})),
    "DELETE /api/v1/users/{user_id}": Endpoint(Audience.ADMIN, lambda w: Call(f"{V1}/users/{w.bob.id}")),
    # catalog
    "GET /api/v1/categories": Endpoint(Audience.ANYONE, lambda w: Call(f"{V1}/categories")),
    "POST /api/v1/categories": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/categories", {"name": f"Cat {uuid.uuid4().hex[:8]}"})),
    "GET /api/v1/categories/{category_id}": Endpoint(Audience.ANYONE, lambda w: Call(
        f"{V1}/categories/{w.category_id}")),
    "PATCH /api/v1/categories/{category_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/categories/{w.category_id}", {"description": "Changed"})),
    "DELETE /api/v1/categories/{category_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/categories/{w.category_id}")),
    "GET /api/v1/products": Endpoint(Audience.ANYONE, lambda w: Call(f"{V1}/products")),
    "POST /api/v1/products": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(f"{V1}/products", _product())),
    "GET /api/v1/products/{product_id}": Endpoint(Audience.ANYONE, lambda w: Call(f"{V1}/products/{w.product_id}")),
    "PUT /api/v1/products/{product_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/products/{w.product_id}", _product())),
    "PATCH /api/v1/products/{product_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/products/{w.product_id}", {"price": "1.00"})),
    "DELETE /api/v1/products/{product_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/products/{w.product_id}")),
    "POST /api/v1/products/{product_id}/stock": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/products/{w.product_id}/stock", {"delta": 5})),
    # cart: always the caller's own, named by the access token or a guest's X-Cart-Token (no cart id in any path)
    "GET /api/v1/cart": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/cart")),
    "DELETE /api/v1/cart": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/cart")),
    "POST /api/v1/cart/items": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/cart/items", {"product_id": w.product_id, "quantity": 1})),
    "PATCH /api/v1/cart/items/{product_id}": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/cart/items/{w.alice_cart_product_id}", {"quantity": 1})),
    "DELETE /api/v1/cart/items/{product_id}": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/cart/items/{w.alice_cart_product_id}")),
    "POST /api/v1/carts": Endpoint(Audience.ANYONE, lambda w: Call(f"{V1}/carts")),
    "POST /api/v1/cart/voucher": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/cart/voucher", {"code": w.voucher_code})),
    "DELETE /api/v1/cart/voucher": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/cart/voucher")),
    # vouchers (catalog staff)
    "GET /api/v1/vouchers": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(f"{V1}/vouchers")),
    "POST /api/v1/vouchers": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/vouchers", {"code": f"NEW{uuid.uuid4().hex[:8].upper()}", "kind": "fixed", "value": "5.00"})),
    "GET /api/v1/vouchers/{voucher_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/vouchers/{w.voucher_id}")),
    "PATCH /api/v1/vouchers/{voucher_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/vouchers/{w.voucher_id}", {"value": "15.00"})),
    "DELETE /api/v1/vouchers/{voucher_id}": Endpoint(Audience.CATALOG_STAFF, lambda w: Call(
        f"{V1}/vouchers/{w.voucher_id}")),
    # orders and payments
    "GET /api/v1/orders": Endpoint(Audience.SIGNED_IN, lambda w: Call(f"{V1}/orders")),
    "POST /api/v1/orders": Endpoint(Audience.SIGNED_IN, lambda w: Call(
        f"{V1}/orders", {"address_id": w.address_id}, _key())),
    "GET /api/v1/orders/{order_id}": Endpoint(Audience.OWNER, lambda w: Call(f"{V1}/orders/{w.order_id}")),
    "POST /api/v1/orders/{order_id}/cancel": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/orders/{w.order_id}/cancel")),
    "POST /api/v1/orders/{order_id}/status": Endpoint(Audience.ORDER_STAFF, lambda w: Call(
        f"{V1}/orders/{w.order_id}/status", {"status": "paid"})),
    "POST /api/v1/orders/{order_id}/payments": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/orders/{w.order_id}/payments", None, _key())),
    "GET /api/v1/payments/{payment_id}": Endpoint(Audience.OWNER, lambda w: Call(f"{V1}/payments/{w.payment_id}")),
    "POST /api/v1/payments/{payment_id}/confirm": Endpoint(Audience.OWNER, lambda w: Call(
        f"{V1}/payments/{w.payment_id}/confirm", {"card_number": "4242424242424242"})),
    "POST /api/v1/payments/webhooks/{provider}": Endpoint(Audience.PROVIDER, lambda w: Call(
        f"{V1}/payments/webhooks/sandbox", {"id": "evt_forged", "type": "payment.succeeded"})),
}


def send(client: Any, operation: str, call: Call) -> Any:
    method = operation.split(" ", 1)[0].lower()
    return getattr(client, method)(call.path, call.body, format="json", headers=call.headers)


def operations_for(*audiences: Audience) -> list[str]:
    return sorted(key for key, endpoint in ENDPOINTS.items() if endpoint.audience in audiences)


def caller(world: World, operation: str) -> Any:
    """A client the operation's audience would call it with: Alice for her own things, the role for staff."""
    audience = ENDPOINTS[operation].audience
    if audience in {Audience.SIGNED_IN, Audience.OWNER}:
        return world.client("alice")
    if audience in STAFF_AUDIENCES:
        return world.client(audience.value)
    return world.client("anonymous")
