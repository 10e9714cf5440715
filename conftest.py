"""Fixtures shared by every suite. They build data through the public contracts only, so they work whichever way
the contracts are served (in-process, or through the loopback RPC path)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from ecommerce.contracts.users import UserChanges, UserDTO, users_service
from ecommerce.roles import Role

DEFAULT_PASSWORD = "Correct-Horse-Battery-9"
REQUIRE_SERVICES = os.environ.get("ECOMMERCE_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    """Throttle counters and idempotency locks must not leak from one test into the next. Only this run's keys are
    removed (the test settings give them a prefix of their own); a shared Redis database is never flushed."""
    _clear_own_cache_keys()
    yield
    _clear_own_cache_keys()


def _clear_own_cache_keys() -> None:
    if hasattr(cache, "delete_pattern"):  # django-redis: deletes keys under this run's prefix only
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _rpc_mode_from_environment(settings: Any) -> None:
    """``ECOMMERCE_TEST_RPC_LOOPBACK=1`` runs the whole suite with every contract call serialised."""
    if os.environ.get("ECOMMERCE_TEST_RPC_LOOPBACK") == "1":
        settings.ECOMMERCE_RPC_LOOPBACK = True


@pytest.fixture(params=["local", "loopback"])
def rpc_mode(request: pytest.FixtureRequest, settings: Any) -> str:
    """Runs a contract test twice: as a plain call, and through serialisation, signing and the internal endpoint."""
    settings.ECOMMERCE_RPC_LOOPBACK = request.param == "loopback"
    return request.param


@pytest.fixture
def postgres_only(db: None) -> None:
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("ECOMMERCE_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., UserDTO]:
    counter = iter(range(1, 1_000_000))

    def make(role: Role = Role.CUSTOMER, *, email: str | None = None, name: str = "Test User",
             password: str = DEFAULT_PASSWORD) -> UserDTO:
        email = email or f"user{next(counter)}@example.com"
        user = users_service.user_register(email=email, password=password, name=name)
        if role != Role.CUSTOMER:
            user = users_service.user_update(user_id=user.id, changes=UserChanges(role=role))
        return user

    return make


@pytest.fixture
def client_for(make_user: Callable[..., UserDTO]) -> Callable[..., APIClient]:
    """An API client signed in (with a real access token) as the given user or a new user of the given role."""

    def build(who: UserDTO | Role = Role.CUSTOMER) -> APIClient:
        user = who if isinstance(who, UserDTO) else make_user(who)
        tokens = users_service.auth_login(email=user.email, password=DEFAULT_PASSWORD)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
        client.user = user  # type: ignore[attr-defined]
        return client

    return build


@pytest.fixture
def customer_client(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(Role.CUSTOMER)


@pytest.fixture
def catalog_client(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(Role.CATALOG_STAFF)


@pytest.fixture
def order_staff_client(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(Role.ORDER_STAFF)


@pytest.fixture
def admin_client_api(client_for: Callable[..., APIClient]) -> APIClient:
    return client_for(Role.ADMIN)
