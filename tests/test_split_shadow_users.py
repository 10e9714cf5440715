"""Staff sign-in to the admin of a role that does not own the users tables: the backend checks the password
through the users contract and keeps a shadow row (same id, role-derived flags and group, unusable password)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.users import UserChanges, UserDTO, users_service
from ecommerce.roles import Role
from ecommerce.rpc.shadow_users import ContractStaffBackend, sync_shadow_user

pytestmark = pytest.mark.django_db


def test_staff_sign_in_with_their_users_password(make_user: Callable[..., UserDTO], rpc_mode: str) -> None:
    staff = make_user(Role.CATALOG_STAFF, email="cat@example.com")

    user = ContractStaffBackend().authenticate(None, username="CAT@example.com", password=DEFAULT_PASSWORD)

    assert user is not None
    assert user.pk == staff.id
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["catalog_staff"]
    assert user.has_perm("products.change_product")


def test_a_wrong_password_or_unknown_account_is_refused(make_user: Callable[..., UserDTO], rpc_mode: str) -> None:
    make_user(Role.CATALOG_STAFF, email="cat@example.com")

    assert ContractStaffBackend().authenticate(None, username="cat@example.com", password="wrong") is None
    assert ContractStaffBackend().authenticate(None, username="nobody@example.com", password="x") is None
    assert ContractStaffBackend().authenticate(None, username="cat@example.com", password=None) is None


def test_the_sign_in_refresh_token_is_revoked(make_user: Callable[..., UserDTO]) -> None:
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    staff = make_user(Role.ORDER_STAFF)

    ContractStaffBackend().authenticate(None, username=staff.email, password=DEFAULT_PASSWORD)

    issued = OutstandingToken.objects.filter(user_id=staff.id)
    assert issued.count() == 1
    assert BlacklistedToken.objects.filter(token__in=issued).count() == 1


def test_a_shadow_copies_the_user_and_keeps_its_unusable_password(make_user: Callable[..., UserDTO]) -> None:
    staff = make_user(Role.ORDER_STAFF)
    dto = users_service.user_get(user_id=staff.id)

    first = sync_shadow_user(dto)
    password = first.password
    again = sync_shadow_user(dto)

    assert not again.has_usable_password()
    assert again.password == password  # a changed value would sign the user out of the admin
    assert (again.email, again.role, again.is_staff) == (staff.email, Role.ORDER_STAFF, True)


def test_an_email_freed_in_the_users_context_moves_to_the_new_account(make_user: Callable[..., UserDTO]) -> None:
    old = make_user(Role.CATALOG_STAFF, email="reused@example.com")
    newer = users_service.user_get(user_id=old.id).model_copy(update={"id": old.id + 1000})

    shadow = sync_shadow_user(newer)

    user_model = get_user_model()
    assert shadow.pk == old.id + 1000
    assert user_model.objects.get(pk=shadow.pk).email == "reused@example.com"
    stale = user_model.objects.get(pk=old.id)
    assert stale.email.endswith("@shadow.invalid")
    assert not stale.is_active


def test_a_session_picks_up_role_changes_and_deactivation_at_refresh(make_user: Callable[..., UserDTO]) -> None:
    staff = make_user(Role.CATALOG_STAFF)
    backend = ContractStaffBackend()
    backend.authenticate(None, username=staff.email, password=DEFAULT_PASSWORD)

    users_service.user_update(user_id=staff.id, changes=UserChanges(role=Role.ORDER_STAFF))
    cache.delete(f"shadow-user-fresh:{staff.id}")  # the refresh interval has passed
    refreshed = backend.get_user(staff.id)
    users_service.user_update(user_id=staff.id, changes=UserChanges(is_active=False))
    cache.delete(f"shadow-user-fresh:{staff.id}")
    deactivated = backend.get_user(staff.id)

    assert refreshed is not None
    assert refreshed.role == Role.ORDER_STAFF
    assert deactivated is None
