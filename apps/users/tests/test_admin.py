"""The Django admin for accounts and the ``createsuperuser`` command."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from apps.users import services
from apps.users.models import Address, User
from apps.users.services import verification
from ecommerce.roles import Role

PASSWORD = "Correct-Horse-Battery-9"

pytestmark = pytest.mark.django_db


def user_with_role(role: Role, email: str) -> User:
    user = services.user_register(email=email, password=PASSWORD, name=email.split("@")[0])
    return services.user_update(user_id=user.pk, changes={"role": role})


def admin_client(user: User) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_createsuperuser_noinput_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "Root")

    call_command("createsuperuser", "--noinput", verbosity=0)

    root = User.objects.get()
    assert (root.email, root.name, root.role) == ("root@example.com", "Root", Role.ADMIN)
    assert root.is_superuser
    assert root.is_staff
    assert root.check_password(PASSWORD)
    assert list(root.groups.values_list("name", flat=True)) == ["admin"]


def test_createsuperuser_noinput_requires_a_name(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.delenv("DJANGO_SUPERUSER_NAME", raising=False)

    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", verbosity=0)
    assert not User.objects.exists()


def test_customer_cannot_log_into_admin():
    customer = services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    client = Client()
    client.login(email=customer.email, password=PASSWORD)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.CATALOG_STAFF, Role.ORDER_STAFF])
def test_staff_can_enter_admin_but_not_see_users(role):
    client = admin_client(user_with_role(role, "staff@example.com"))

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users/user/").status_code == 403
    assert client.get("/admin/users/address/").status_code == 403
    assert b"/admin/users/user/" not in client.get("/admin/").content


def test_admin_manages_users_and_addresses():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    customer = services.user_register(email="ada@example.com", password=PASSWORD, name="Ada Lovelace")
    services.address_create(user_id=customer.pk, full_name="Ada", street="1 Way", city="London", zip_code="N1",
                            country="GB")
    client = admin_client(admin)

    listing = client.get("/admin/users/user/", {"q": "lovelace"})
    assert listing.status_code == 200
    assert [user.email for user in listing.context["cl"].result_list] == ["ada@example.com"]
    assert client.get("/admin/users/user/", {"role__exact": "admin"}).status_code == 200
    assert client.get(f"/admin/users/user/{customer.pk}/change/").status_code == 200
    assert client.get("/admin/users/address/", {"country": "GB", "q": "London"}).status_code == 200


def test_admin_role_change_updates_flags_and_groups():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    customer = services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    client = admin_client(admin)

    response = client.post(f"/admin/users/user/{customer.pk}/change/", {
        "email": "ada@example.com", "name": "Ada", "role": "catalog_staff", "is_active": "on",
        "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
    })

    assert response.status_code == 302, response.content
    customer.refresh_from_db()
    assert customer.role == Role.CATALOG_STAFF
    assert customer.is_staff
    assert not customer.is_superuser
    assert list(customer.groups.values_list("name", flat=True)) == ["catalog_staff"]


def test_admin_add_form_creates_user_with_password_and_rejects_duplicate_email():
    client = admin_client(user_with_role(Role.ADMIN, "root@example.com"))
    form = {"email": "New@Example.com", "name": "New", "role": "order_staff", "usable_password": "true",
            "password1": PASSWORD, "password2": PASSWORD,
            "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"}

    created = client.post("/admin/users/user/add/", form)
    duplicate = client.post("/admin/users/user/add/", {**form, "email": "NEW@example.com"})

    assert created.status_code == 302
    new = User.objects.get(email="new@example.com")
    assert new.check_password(PASSWORD)
    assert new.role == Role.ORDER_STAFF
    assert list(new.groups.values_list("name", flat=True)) == ["order_staff"]
    assert duplicate.status_code == 200  # the form is shown again with the error
    assert User.objects.filter(email__iexact="new@example.com").count() == 1
    assert not Address.objects.exists()


# --- the rules the API keeps, kept here too -----------------------------------------------------------------------
def _change_form(user: User, **fields: str) -> dict[str, str]:
    form = {"email": user.email, "name": user.name, "role": str(user.role), "is_active": "on",
            "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"}
    form.update(fields)
    return {key: value for key, value in form.items() if value is not None}


@pytest.mark.parametrize("change", [{"role": "customer"}, {"is_active": None}])
def test_the_last_admin_cannot_demote_or_deactivate_themselves_in_the_admin(change):
    admin = user_with_role(Role.ADMIN, "root@example.com")
    client = admin_client(admin)

    response = client.post(f"/admin/users/user/{admin.pk}/change/", _change_form(admin, **change))

    assert response.status_code == 200  # the form again, with the reason
    assert b"at least one active admin" in response.content
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == (Role.ADMIN, True)


def test_the_last_admin_cannot_delete_themselves_in_the_admin():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    client = admin_client(admin)

    page = client.get(f"/admin/users/user/{admin.pk}/delete/")
    confirmed = client.post(f"/admin/users/user/{admin.pk}/delete/", {"post": "yes"})
    bulk = client.post("/admin/users/user/", {"action": "delete_selected", "_selected_action": [admin.pk],
                                               "post": "yes"})

    assert page.status_code == 403
    assert confirmed.status_code == 403
    assert bulk.status_code == 403  # the bulk action refuses once a selected user may not be deleted
    assert User.objects.filter(pk=admin.pk, role=Role.ADMIN, is_active=True).exists()


def test_with_a_second_admin_the_admin_may_delete_one_and_its_tokens_die():
    first = user_with_role(Role.ADMIN, "root@example.com")
    second = user_with_role(Role.ADMIN, "second@example.com")
    _, issued = services.auth_login(email=second.email, password=PASSWORD)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    assert api.get("/api/v1/users/me").status_code == 200

    deleted = admin_client(first).post(f"/admin/users/user/{second.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not User.objects.filter(pk=second.pk).exists()
    assert api.get("/api/v1/users/me").status_code == 401


@pytest.mark.parametrize("change", [{"role": "customer"}, {"is_active": None}])
def test_a_role_change_or_deactivation_in_the_admin_ends_the_users_tokens(change):
    admin = user_with_role(Role.ADMIN, "root@example.com")
    staff = user_with_role(Role.CATALOG_STAFF, "cat@example.com")
    _, issued = services.auth_login(email=staff.email, password=PASSWORD)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")

    response = admin_client(admin).post(f"/admin/users/user/{staff.pk}/change/", _change_form(staff, **change))

    assert response.status_code == 302, response.content
    assert api.get("/api/v1/users/me").status_code == 401


def test_a_password_set_in_the_admin_ends_the_users_tokens():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    customer = services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    _, issued = services.auth_login(email=customer.email, password=PASSWORD)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")

    response = admin_client(admin).post(f"/admin/users/user/{customer.pk}/password/", {
        "password1": "Another-Sturdy-Pass-77", "password2": "Another-Sturdy-Pass-77", "usable_password": "true"})

    assert response.status_code == 302, response.content
    assert api.get("/api/v1/users/me").status_code == 401


# --- e-mail verification ------------------------------------------------------------------------------------------
def verified_customer(email: str) -> User:
    user = services.user_register(email=email, password=PASSWORD, name=email.split("@")[0])
    services.email_verification_confirm(token=verification.verification_token_make(user))
    return User.objects.get(pk=user.pk)


def test_the_user_list_shows_and_filters_by_a_verified_address():
    client = admin_client(user_with_role(Role.ADMIN, "root@example.com"))
    verified_customer("ada@example.com")
    services.user_register(email="bob@example.com", password=PASSWORD, name="Bob")

    verified = client.get("/admin/users/user/", {"email_verified__exact": "1"})
    unverified = client.get("/admin/users/user/", {"email_verified__exact": "0"})

    assert [user.email for user in verified.context["cl"].result_list] == ["ada@example.com"]
    assert {user.email for user in unverified.context["cl"].result_list} == {"root@example.com", "bob@example.com"}
    assert "email_verified" in verified.context["cl"].list_display


def test_the_change_form_shows_email_verified_read_only_and_ignores_a_posted_value():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    bob = services.user_register(email="bob@example.com", password=PASSWORD, name="Bob")
    client = admin_client(admin)

    page = client.get(f"/admin/users/user/{bob.pk}/change/")
    saved = client.post(f"/admin/users/user/{bob.pk}/change/", _change_form(bob, email_verified="on"))

    assert "email_verified" in page.context["adminform"].readonly_fields
    assert saved.status_code == 302, saved.content
    bob.refresh_from_db()
    assert bob.email_verified is False


def test_a_new_address_set_in_the_admin_is_unverified_and_ends_the_access_tokens():
    admin = user_with_role(Role.ADMIN, "root@example.com")
    ada = verified_customer("ada@example.com")
    _, issued = services.auth_login(email=ada.email, password=PASSWORD)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    assert api.get("/api/v1/users/me").json()["email_verified"] is True

    response = admin_client(admin).post(f"/admin/users/user/{ada.pk}/change/",
                                        _change_form(ada, email="ada.lovelace@example.com"))

    assert response.status_code == 302, response.content
    ada.refresh_from_db()
    assert (ada.email, ada.email_verified) == ("ada.lovelace@example.com", False)
    assert api.get("/api/v1/users/me").status_code == 401  # its token claimed a verified address
