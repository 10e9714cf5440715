"""API2:2023 Broken authentication. Every operation that needs a token is called with Alice's token forged the ways
an attacker would: signed with no algorithm, with another key, expired, its role raised to admin, and her real
token after her account was deactivated. Each is 401 everywhere. A refresh token works once: used again it is
refused and ends its whole family; one that was logged out is dead."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.users import UserChanges, users_service
from tests.security.endpoints import ENDPOINTS, STAFF_AUDIENCES, Audience, operations_for, send

pytestmark = pytest.mark.django_db

NEEDS_A_TOKEN = operations_for(Audience.SIGNED_IN, Audience.OWNER, *STAFF_AUDIENCES)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def none_algorithm(token: str) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(token))}."


def wrong_key(token: str) -> str:
    return jwt.encode(_claims(token), "another-key-that-is-long-enough-for-hs256!", algorithm="HS256")


def expired(token: str) -> str:
    claims = {**_claims(token), "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())}
    return jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


def role_raised_to_admin(token: str) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64({**_claims(token), 'role': 'admin'})}.{signature}"


FORGERIES = [none_algorithm, wrong_key, expired, role_raised_to_admin]


def _alice_access(world) -> str:
    return users_service.auth_login(email=world.alice.email, password=DEFAULT_PASSWORD).access


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_the_forgeries_are_made_from_a_token_that_works(world) -> None:
    token = _alice_access(world)

    assert _bearer(token).get("/api/v1/users/me").status_code == 200
    assert _bearer(expired(token)).get("/api/v1/users/me").status_code == 401  # the signing key is the real one


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda forge: forge.__name__)
@pytest.mark.parametrize("operation", NEEDS_A_TOKEN)
def test_a_forged_token_is_401_everywhere(world, operation, forge) -> None:
    client = _bearer(forge(_alice_access(world)))

    response = send(client, operation, ENDPOINTS[operation].call(world))

    assert response.status_code == 401, (operation, response.content)


@pytest.mark.parametrize("operation", NEEDS_A_TOKEN)
def test_a_deactivated_users_token_is_401_everywhere(world, operation) -> None:
    client = _bearer(_alice_access(world))
    users_service.user_update(user_id=world.alice.id, changes=UserChanges(is_active=False))

    response = send(client, operation, ENDPOINTS[operation].call(world))

    assert response.status_code == 401, (operation, response.content)


def test_a_refresh_token_used_twice_is_refused_and_ends_its_family(world, api_client, settings) -> None:
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 0  # no grace for a client racing itself: this is a replay
    first = users_service.auth_login(email=world.alice.email, password=DEFAULT_PASSWORD)
    rotated = api_client.post("/api/v1/auth/refresh", {"refresh": first.refresh}, format="json")
    assert rotated.status_code == 200

    replayed = api_client.post("/api/v1/auth/refresh", {"refresh": first.refresh}, format="json")
    successor = api_client.post("/api/v1/auth/refresh", {"refresh": rotated.json()["refresh"]}, format="json")

    assert_problem(replayed, 401, "invalid_token")
    assert_problem(successor, 401, "invalid_token")


def test_a_logged_out_refresh_token_is_dead(world, api_client) -> None:
    tokens = users_service.auth_login(email=world.alice.email, password=DEFAULT_PASSWORD)
    logout = _bearer(tokens.access).post("/api/v1/auth/logout", {"refresh": tokens.refresh}, format="json")
    assert logout.status_code == 204

    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": tokens.refresh}, format="json"), 401,
                   "invalid_token")


def test_a_refresh_token_is_no_access_token(world) -> None:
    tokens = users_service.auth_login(email=world.alice.email, password=DEFAULT_PASSWORD)

    assert _bearer(tokens.refresh).get("/api/v1/users/me").status_code == 401
