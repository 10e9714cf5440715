"""Fixtures shared by every suite. They build data through the public contracts only, so they work whichever way
the contracts are served (in-process, or through the loopback RPC path).

``@pytest.mark.postgres`` marks a test that proves something only PostgreSQL can show (row locks under real
concurrency, full-text search): elsewhere it is skipped with the reason shown, or fails when
``ECOMMERCE_REQUIRE_SERVICES=1`` (see ``tests.environment``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from ecommerce import deployment
from ecommerce.contracts.users import UserChanges, UserDTO, users_service
from ecommerce.roles import Role
from tests.environment import service_missing
from tests.support.edge_client import EdgeAPIClient

# The live shop's servers are registered here, once, so the end-to-end and browser suites share them.
pytest_plugins = ("tests.support.fixtures", "tests.support.live_shop")

DEFAULT_PASSWORD = "Correct-Horse-Battery-9"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not django_settings.DATABASES["default"]["ENGINE"].endswith(
            "postgresql"):
        service_missing("this test needs PostgreSQL: set DATABASE_URL=postgres://...")


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
def _fresh_deployment_caches() -> Iterator[None]:
    """Each test resolves contracts and transports from its own settings, and leaves none of them behind."""
    deployment.clear_caches()
    yield
    deployment.clear_caches()


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
def api_client() -> APIClient:
    # Through the catalog's WSGI edge first, as a served request goes (tests/support/edge_client.py).
    return EdgeAPIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., UserDTO]:
    counter = iter(range(1, 1_000_000))

    def make(role: Role = Role.CUSTOMER, *, email: str | None = None, name: str = "Test User",
             password: str = DEFAULT_PASSWORD) -> UserDTO:
        email = email or f"user{next(counter)}@example.com"
        mails_before = len(getattr(mail, "outbox", []))
        user = users_service.user_register(email=email, password=password, name=name)
        # The verification mail of a fixture's account (sent when a transactional test commits) is not what any test
        # of e-mail looks at; the verification tests register through the API or the service instead.
        del getattr(mail, "outbox", [])[mails_before:]
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
