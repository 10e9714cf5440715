"""Services, selectors and token bookkeeping of the users context, against a real database."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from apps.users import selectors, services, tokens
from apps.users.models import Address, User
from ecommerce.errors import InvalidCredentials, InvalidToken, NotFound, ValidationFailed
from ecommerce.roles import Role

PASSWORD = "Correct-Horse-Battery-9"
NEW_PASSWORD = "Another-Stable-Staple-7"

ADDRESS = {"full_name": "Ada Lovelace", "street": "1 Analytical Way", "city": "London", "zip_code": "N1 7AA",
           "country": "gb"}

pytestmark = pytest.mark.django_db


def register(email: str = "ada@example.com", name: str = "Ada") -> User:
    return services.user_register(email=email, password=PASSWORD, name=name)


def live_refresh_count(user: User) -> int:
    return OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count()


# --- registration -----------------------------------------------------------------------------------------------

def test_register_normalises_email_and_hashes_password_and_joins_customer_group():
    user = register(email="  Ada@Example.COM ")

    assert user.email == "ada@example.com"
    assert user.role == Role.CUSTOMER
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["customer"]


@pytest.mark.parametrize("duplicate", ["ada@example.com", "ADA@EXAMPLE.COM", " Ada@example.com"])
def test_register_rejects_duplicate_email_in_any_case(duplicate):
    register()

    with pytest.raises(ValidationFailed) as raised:
        services.user_register(email=duplicate, password=PASSWORD, name="Other")

    assert "email" in raised.value.errors
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ada@example.com"])
def test_register_rejects_weak_passwords(password):
    with pytest.raises(ValidationFailed) as raised:
        services.user_register(email="ada@example.com", password=password, name="Ada")

    assert list(raised.value.errors) == ["password"]
    assert not User.objects.exists()


def test_register_requires_name_and_valid_email_and_reports_all_errors():
    with pytest.raises(ValidationFailed) as raised:
        services.user_register(email="not-an-email", password="x", name="   ")

    assert set(raised.value.errors) == {"email", "name", "password"}
    assert not User.objects.exists()


def test_register_rejects_name_over_150_characters():
    with pytest.raises(ValidationFailed) as raised:
        services.user_register(email="ada@example.com", password=PASSWORD, name="n" * 151)

    assert list(raised.value.errors) == ["name"]


# --- roles and groups -------------------------------------------------------------------------------------------

def test_role_groups_exist_for_every_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


def test_users_permissions_are_granted_to_admin_group_only():
    admin_group_perms = set(Group.objects.get(name="admin").permissions.values_list("codename", flat=True))
    expected = {"view_user", "add_user", "change_user", "delete_user", "view_address", "change_address"}
    assert expected <= admin_group_perms
    for name in ("customer", "catalog_staff", "order_staff"):
        assert not Group.objects.get(name=name).permissions.filter(content_type__app_label="users").exists()


def test_role_change_moves_user_to_exactly_one_role_group_and_derives_flags():
    user = register()

    services.user_update(user_id=user.pk, changes={"role": Role.CATALOG_STAFF})
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["catalog_staff"]
    assert user.is_staff
    assert not user.is_superuser

    services.user_update(user_id=user.pk, changes={"role": "admin"})
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]
    assert user.is_staff
    assert user.is_superuser


def test_non_role_groups_are_left_alone_on_role_change():
    user = register()
    team = Group.objects.create(name="newsletter-editors")
    user.groups.add(team)

    services.user_update(user_id=user.pk, changes={"role": Role.ORDER_STAFF})

    assert set(user.groups.values_list("name", flat=True)) == {"newsletter-editors", "order_staff"}


def test_create_superuser_is_admin_in_admin_group():
    user = User.objects.create_superuser("Root@Example.com", PASSWORD, name="Root")

    assert user.role == Role.ADMIN
    assert user.is_superuser
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]


# --- login and tokens -------------------------------------------------------------------------------------------

def test_login_issues_tokens_with_role_and_records_last_login():
    user = register()

    logged_in, issued = services.auth_login(email="ADA@example.com", password=PASSWORD)

    access = AccessToken(issued.access)
    assert logged_in.pk == user.pk
    assert access["user_id"] == str(user.pk)
    assert access["role"] == "customer"
    assert tokens.read_refresh(issued.refresh)["role"] == "customer"
    assert User.objects.get(pk=user.pk).last_login is not None
    assert live_refresh_count(user) == 1


@pytest.mark.parametrize(("email", "password"), [("ada@example.com", "wrong"), ("nobody@example.com", PASSWORD)])
def test_login_rejects_bad_credentials(email, password):
    register()

    with pytest.raises(InvalidCredentials):
        services.auth_login(email=email, password=password)


def test_login_rejects_inactive_user():
    user = register()
    services.user_update(user_id=user.pk, changes={"is_active": False})

    with pytest.raises(InvalidCredentials):
        services.auth_login(email="ada@example.com", password=PASSWORD)


def test_refresh_rotates_and_old_token_is_used_up():
    register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    rotated = services.auth_refresh(refresh=issued.refresh)

    assert rotated.refresh != issued.refresh
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)
    assert services.auth_refresh(refresh=rotated.refresh).access


def test_refresh_carries_the_current_role():
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    services.user_update(user_id=user.pk, changes={"role": Role.ORDER_STAFF})

    rotated = services.auth_refresh(refresh=issued.refresh)

    assert AccessToken(rotated.access)["role"] == "order_staff"
    assert tokens.read_refresh(rotated.refresh)["role"] == "order_staff"


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_refresh_rejects_garbage(garbage):
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=garbage)


def test_refresh_rejects_an_access_token():
    register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.access)


def test_refresh_refuses_deleted_user_and_leaves_nothing_issued():
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    User.objects.filter(pk=user.pk).delete()  # bypasses the service, which would have blacklisted it
    outstanding_before = OutstandingToken.objects.count()

    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)
    assert OutstandingToken.objects.count() == outstanding_before


def test_consume_succeeds_once_per_token():
    user = register()
    refresh = tokens.read_refresh(tokens.issue_tokens(user, family_id=uuid.uuid4()).refresh)

    with transaction.atomic():
        first = tokens.consume(refresh)
    with transaction.atomic():
        second = tokens.consume(refresh)

    assert (first, second) == (True, False)


def test_logout_blacklists_token_and_twice_is_harmless():
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    services.auth_logout(user_id=user.pk, refresh=issued.refresh)
    services.auth_logout(user_id=user.pk, refresh=issued.refresh)

    assert live_refresh_count(user) == 0
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)


def test_logout_refuses_another_users_token():
    register()
    other = register(email="bob@example.com", name="Bob")
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    with pytest.raises(InvalidToken):
        services.auth_logout(user_id=other.pk, refresh=issued.refresh)
    assert not BlacklistedToken.objects.exists()


# --- passwords --------------------------------------------------------------------------------------------------

def test_password_change_requires_old_password_and_kills_refresh_tokens():
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    with pytest.raises(ValidationFailed) as wrong_old:
        services.password_change(user_id=user.pk, old_password="nope", new_password=NEW_PASSWORD)
    with pytest.raises(ValidationFailed) as weak_new:
        services.password_change(user_id=user.pk, old_password=PASSWORD, new_password="123")
    assert list(wrong_old.value.errors) == ["old_password"]
    assert list(weak_new.value.errors) == ["new_password"]
    assert live_refresh_count(user) == 1

    services.password_change(user_id=user.pk, old_password=PASSWORD, new_password=NEW_PASSWORD)

    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert live_refresh_count(user) == 0
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)


def test_password_change_of_unknown_user_is_not_found():
    with pytest.raises(NotFound):
        services.password_change(user_id=999, old_password=PASSWORD, new_password=NEW_PASSWORD)


def test_password_reset_request_mails_a_link_only_to_active_accounts(settings):
    settings.ECOMMERCE_FRONTEND_PASSWORD_RESET_URL = "https://shop.test/reset/{uid}/{token}"
    user = register()
    register(email="gone@example.com", name="Gone")
    services.user_update(user_id=User.objects.get(email="gone@example.com").pk, changes={"is_active": False})

    services.password_reset_request(email="nobody@example.com")
    services.password_reset_request(email="gone@example.com")
    assert mail.outbox == []

    services.password_reset_request(email="ADA@example.com")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    assert f"https://shop.test/reset/{uid}/" in mail.outbox[0].body


def test_password_reset_confirm_sets_password_once_and_kills_refresh_tokens():
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    user.refresh_from_db()  # the login changed last_login, which the reset token covers
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    with pytest.raises(ValidationFailed) as weak:
        services.password_reset_confirm(uid=uid, token=token, new_password="123")
    assert list(weak.value.errors) == ["new_password"]

    services.password_reset_confirm(uid=uid, token=token, new_password=NEW_PASSWORD)

    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert live_refresh_count(user) == 0
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)
    with pytest.raises(ValidationFailed) as reused:
        services.password_reset_confirm(uid=uid, token=token, new_password="Yet-Another-Pass-42")
    assert list(reused.value.errors) == ["token"]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_password_set_by_an_operator_validates_and_kills_refresh_tokens():
    # given a signed-in user
    user = register()
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)

    # when an operator sets a weak password, then a strong one
    with pytest.raises(ValidationFailed) as weak:
        services.password_set(user_id=user.pk, new_password="123")
    services.password_set(user_id=user.pk, new_password=NEW_PASSWORD)

    # then only the strong one took, and the old session cannot refresh
    assert list(weak.value.errors) == ["new_password"]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert live_refresh_count(user) == 0
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)
    with pytest.raises(NotFound):
        services.password_set(user_id=user.pk + 1, new_password=NEW_PASSWORD)


@pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw", "YWJj"])
def test_password_reset_confirm_rejects_bad_uid(uid):
    user = register()

    with pytest.raises(ValidationFailed) as raised:
        services.password_reset_confirm(uid=uid, token=default_token_generator.make_token(user),
                                        new_password=NEW_PASSWORD)
    assert list(raised.value.errors) == ["token"]


# --- users ------------------------------------------------------------------------------------------------------

def test_user_update_applies_only_given_fields_and_validates():
    user = register()

    updated = services.user_update(user_id=user.pk, changes={"name": "  Countess  "})
    assert (updated.name, updated.role, updated.is_active) == ("Countess", Role.CUSTOMER, True)

    for bad in ({"name": ""}, {"name": None}, {"role": "emperor"}, {"role": None}, {"is_active": None}):
        with pytest.raises(ValidationFailed) as raised:
            services.user_update(user_id=user.pk, changes=bad)
        assert list(raised.value.errors) == list(bad)
    assert User.objects.get(pk=user.pk).name == "Countess"

    with pytest.raises(NotFound):
        services.user_update(user_id=999, changes={"name": "x"})


def test_deactivation_and_deletion_blacklist_refresh_tokens():
    user = register()
    services.auth_login(email="ada@example.com", password=PASSWORD)
    services.auth_login(email="ada@example.com", password=PASSWORD)
    assert live_refresh_count(user) == 2

    services.user_update(user_id=user.pk, changes={"is_active": False})
    assert live_refresh_count(user) == 0

    other = register(email="bob@example.com", name="Bob")
    _, issued = services.auth_login(email="bob@example.com", password=PASSWORD)
    services.user_delete(user_id=other.pk)
    assert not User.objects.filter(pk=other.pk).exists()
    with pytest.raises(InvalidToken):
        services.auth_refresh(refresh=issued.refresh)
    with pytest.raises(NotFound):
        services.user_delete(user_id=other.pk)


def test_user_list_searches_email_and_name_ordered_by_id():
    ada = register()
    bob = register(email="bob@example.com", name="Robert Ada-Fan")
    register(email="carol@example.com", name="Carol")

    count, found = selectors.user_list(search="ADA")
    assert ([u.pk for u in found], count) == ([ada.pk, bob.pk], 2)

    total, page2 = selectors.user_list(page=2, page_size=2)
    assert (len(page2), total) == (1, 3)

    with pytest.raises(ValidationFailed):
        selectors.user_list(page=0)
    with pytest.raises(NotFound):
        selectors.user_get(user_id=999)


# --- addresses --------------------------------------------------------------------------------------------------

def test_first_address_becomes_default_and_country_is_upper_case():
    user = register()

    address = services.address_create(user_id=user.pk, **ADDRESS)

    assert address.is_default
    assert address.country == "GB"


def test_new_default_unsets_previous_default():
    user = register()
    first = services.address_create(user_id=user.pk, **ADDRESS)
    second = services.address_create(user_id=user.pk, **{**ADDRESS, "street": "2 Engine Rd"})
    assert not second.is_default

    services.address_update(user_id=user.pk, address_id=second.pk, changes={"is_default": True})
    assert list(Address.objects.filter(is_default=True).values_list("pk", flat=True)) == [second.pk]

    third = services.address_create(user_id=user.pk, **{**ADDRESS, "is_default": True})
    assert list(Address.objects.filter(is_default=True).values_list("pk", flat=True)) == [third.pk]
    assert not Address.objects.get(pk=first.pk).is_default


def test_deleting_default_address_promotes_oldest_remaining():
    user = register()
    first = services.address_create(user_id=user.pk, **ADDRESS)
    second = services.address_create(user_id=user.pk, **ADDRESS)

    services.address_delete(user_id=user.pk, address_id=first.pk)

    assert Address.objects.get(pk=second.pk).is_default


@pytest.mark.parametrize(("field", "value"), [
    ("country", "XX"), ("country", "GBR"), ("country", "1A"), ("country", ""),
    ("full_name", ""), ("street", "   "), ("zip_code", "9" * 21), ("city", "c" * 101), ("phone", "1" * 33),
    ("state", "s" * 101),
])
def test_address_validation_names_the_field_and_writes_nothing(field, value):
    user = register()

    with pytest.raises(ValidationFailed) as raised:
        services.address_create(user_id=user.pk, **{**ADDRESS, field: value})

    assert list(raised.value.errors) == [field]
    assert not Address.objects.exists()


def test_address_update_is_partial_validated_and_owner_scoped():
    ada = register()
    bob = register(email="bob@example.com", name="Bob")
    address = services.address_create(user_id=ada.pk, **ADDRESS)

    updated = services.address_update(user_id=ada.pk, address_id=address.pk, changes={"city": "Oxford"})
    assert (updated.city, updated.street, updated.country) == ("Oxford", ADDRESS["street"], "GB")

    with pytest.raises(ValidationFailed):
        services.address_update(user_id=ada.pk, address_id=address.pk, changes={"country": "ZZ", "city": "Bath"})
    with pytest.raises(ValidationFailed):
        services.address_update(user_id=ada.pk, address_id=address.pk, changes={"street": None})
    with pytest.raises(NotFound):
        services.address_update(user_id=bob.pk, address_id=address.pk, changes={"city": "Bath"})
    with pytest.raises(NotFound):
        services.address_delete(user_id=bob.pk, address_id=address.pk)
    with pytest.raises(NotFound):
        selectors.address_get(user_id=bob.pk, address_id=address.pk)
    assert Address.objects.get(pk=address.pk).city == "Oxford"


def test_address_for_unknown_user_is_not_found():
    with pytest.raises(NotFound):
        services.address_create(user_id=999, **ADDRESS)


def test_address_list_is_owner_scoped_and_paginated():
    ada = register()
    bob = register(email="bob@example.com", name="Bob")
    for _ in range(3):
        services.address_create(user_id=ada.pk, **ADDRESS)
    services.address_create(user_id=bob.pk, **ADDRESS)

    count, page = selectors.address_list(user_id=ada.pk, page=2, page_size=2)

    assert count == 3
    assert [a.user_id for a in page] == [ada.pk]
