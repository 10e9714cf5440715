"""API3:2023 Broken object property level authorization (mass assignment). Every operation that takes a JSON body
(read from the OpenAPI document, so a new one is covered at once) is sent the request its audience would make,
plus every privileged or read-only property it does not document: ids, owners, roles, staff flags, statuses,
prices, totals, stock, timestamps. None of them may reach the answer or the caller's account."""

from __future__ import annotations

from typing import Any

import pytest

from ecommerce.contracts.users import users_service
from ecommerce.roles import Role
from tests.security.endpoints import ENDPOINTS, Audience, Call, caller, send
from tests.security.inventory import request_properties, schema_operations

pytestmark = pytest.mark.django_db

SENTINELS: dict[str, Any] = {
    "id": 987654, "user_id": 987654, "owner_id": 987654, "role": "admin", "is_staff": True, "is_superuser": True,
    "is_active": False, "email_verified": True, "email": "mass-assigned@example.com", "status": "delivered",
    "payment_status": "refunded", "subtotal": "0.01", "total": "0.01", "discount": "99.00", "price": "0.01",
    "unit_price": "0.01", "effective_price": "0.01", "line_total": "0.01", "amount": "0.01", "stock": 999999,
    "available": 999999, "currency": "XTS", "provider": "manual", "client_secret": "mass-assigned",
    "uses": 999, "number": "MASS-1", "created_at": "2000-01-01T00:00:00Z", "updated_at": "2000-01-01T00:00:00Z",
    "date_joined": "2000-01-01T00:00:00Z",
}
WRITABLE = sorted(key for key, operation in schema_operations().items()
                  if request_properties(operation) is not None and ENDPOINTS.get(key) is not None
                  and ENDPOINTS[key].audience != Audience.PROVIDER)


def _leaks(value: Any, injected: dict[str, Any]) -> list[str]:
    if isinstance(value, dict):
        found = [key for key, item in value.items() if key in injected and item == injected[key]]
        return found + [leak for item in value.values() for leak in _leaks(item, injected)]
    if isinstance(value, list):
        return [leak for item in value for leak in _leaks(item, injected)]
    return []


def test_every_body_taking_operation_is_covered() -> None:
    assert len(WRITABLE) >= 20  # the document is read, not an empty list


@pytest.mark.parametrize("operation", WRITABLE)
def test_undocumented_privileged_properties_are_ignored(world, operation) -> None:
    documented = request_properties(schema_operations()[operation]) or set()
    injected = {name: value for name, value in SENTINELS.items() if name not in documented}
    call = ENDPOINTS[operation].call(world)

    response = send(caller(world, operation), operation, Call(call.path, {**(call.body or {}), **injected},
                                                              call.headers))

    assert response.status_code < 500, response.content
    body = response.json() if response.content and response["Content-Type"].endswith("json") else None
    assert not _leaks(body, injected), (operation, response.content)
    alice = users_service.user_get(user_id=world.alice.id)
    assert (alice.role, alice.email, alice.email_verified) == (Role.CUSTOMER, world.alice.email, False)
