"""API5:2023 Broken function level authorization. Every staff operation of the table (``endpoints.py``) is called
by every role that lacks it, with a request its own role would make successfully: 403 ``permission_denied`` for a
signed-in caller, 401 for an anonymous one, and the role that has it is let through. Every operation for signed-in
users answers 401 without a token."""

from __future__ import annotations

import pytest

from apps.gateway.tests.problems import assert_problem
from ecommerce.roles import Role
from tests.security.endpoints import ENDPOINTS, STAFF_AUDIENCES, Audience, operations_for, send
from tests.security.world import ANONYMOUS

pytestmark = pytest.mark.django_db

# An admin holds every staff role (ecommerce.auth.Principal.has_role).
ALLOWED = {
    Audience.CATALOG_STAFF: {Role.CATALOG_STAFF, Role.ADMIN},
    Audience.ORDER_STAFF: {Role.ORDER_STAFF, Role.ADMIN},
    Audience.ADMIN: {Role.ADMIN},
}
STAFF_OPERATIONS = operations_for(*STAFF_AUDIENCES)


def _denied_cases() -> list[tuple[str, Role]]:
    return [(operation, role) for operation in STAFF_OPERATIONS for role in Role
            if role not in ALLOWED[ENDPOINTS[operation].audience]]


def _allowed_cases() -> list[tuple[str, Role]]:
    return [(operation, role) for operation in STAFF_OPERATIONS
            for role in sorted(ALLOWED[ENDPOINTS[operation].audience])]


@pytest.mark.parametrize(("operation", "role"), _denied_cases())
def test_a_role_without_the_function_is_403(world, operation, role) -> None:
    assert_problem(send(world.client(role), operation, ENDPOINTS[operation].call(world)), 403, "permission_denied")


@pytest.mark.parametrize(("operation", "role"), _allowed_cases())
def test_the_role_with_the_function_is_let_through(world, operation, role) -> None:
    response = send(world.client(role), operation, ENDPOINTS[operation].call(world))

    assert response.status_code not in {401, 403}, response.content
    assert response.status_code < 500, response.content


@pytest.mark.parametrize("operation", operations_for(Audience.SIGNED_IN, Audience.OWNER, *STAFF_AUDIENCES))
def test_without_a_token_it_is_401(world, operation) -> None:
    assert_problem(send(world.client(ANONYMOUS), operation, ENDPOINTS[operation].call(world)), 401,
                   "not_authenticated")


@pytest.mark.parametrize("operation", operations_for(Audience.PROVIDER))
def test_a_provider_endpoint_refuses_an_unsigned_body(world, operation) -> None:
    assert_problem(send(world.client(ANONYMOUS), operation, ENDPOINTS[operation].call(world)), 400,
                   "invalid_signature")
