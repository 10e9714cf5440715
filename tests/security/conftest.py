"""Fixtures of the security suite. The world is built once per module (it takes a couple of hundred queries) inside
a transaction that is rolled back when the module ends; each test runs in a savepoint inside it, as pytest-django's
``db`` fixture nests, so whatever one test changes is gone before the next."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

import pytest
from django.db import transaction

from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.users import UserChanges, UserDTO, users_service
from ecommerce.roles import Role
from tests.security.world import World, build_world

_numbers = count(1)


def _make_user(role: Role = Role.CUSTOMER) -> UserDTO:
    number = next(_numbers)
    user = users_service.user_register(email=f"security-{number}@example.com", password=DEFAULT_PASSWORD,
                                       name=f"Security {number}")
    if role != Role.CUSTOMER:
        user = users_service.user_update(user_id=user.id, changes=UserChanges(role=role))
    return user


@pytest.fixture(scope="module")
def _module_world(django_db_setup: None, django_db_blocker) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world(_make_user)
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: World, db: None) -> World:
    return _module_world
