"""Accounts over HTTP, identical in the monolith and the split deployment: registration, sign-in, token rotation,
logout, the profile, addresses (scoped to their owner) and the admin's user management."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import USER_PASSWORD, Customer, Shop, assert_problem, needs_shared_cache, unique_email

pytestmark = pytest.mark.e2e


def test_register_then_login_returns_tokens_and_the_user(shop: Shop, anonymous: httpx.Client) -> None:
    email = unique_email()

    registered = anonymous.post("/auth/register", json={"email": email.upper(), "password": USER_PASSWORD,
                                                        "name": "Ann", "role": "admin"})
    login = anonymous.post("/auth/login", json={"email": email, "password": USER_PASSWORD})

    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == email
    assert registered.json()["role"] == "customer"  # read-only fields cannot be set
    assert login.status_code == 200
    assert {"access", "refresh", "user"} <= set(login.json())
    assert login.json()["user"]["id"] == registered.json()["id"]


def test_duplicate_email_and_weak_password_are_400(anonymous: httpx.Client, customer: Customer) -> None:
    duplicate = anonymous.post("/auth/register", json={"email": customer.email.upper(), "password": USER_PASSWORD,
                                                       "name": "Again"})
    weak = anonymous.post("/auth/register", json={"email": unique_email(), "password": "123", "name": "Weak"})

    assert "email" in assert_problem(duplicate, 400, "validation_error")["errors"]
    assert "password" in assert_problem(weak, 400, "validation_error")["errors"]


def test_bad_credentials_are_401_and_repeated_failures_429(anonymous: httpx.Client, customer: Customer) -> None:
    answers = []
    for _ in range(30):  # the limit is a setting (ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP); find where it bites
        answers.append(anonymous.post("/auth/login", json={"email": customer.email, "password": "wrong-Pass-1"}))
        if answers[-1].status_code == 429:
            break
    throttled = anonymous.post("/auth/login", json={"email": customer.email, "password": USER_PASSWORD})

    for answer in answers[:-1]:
        assert_problem(answer, 401)
    assert len(answers) > 1
    assert_problem(answers[-1], 429, "throttled")
    assert_problem(throttled, 429, "throttled")  # even the right password waits until the window ends
    assert int(throttled.headers["Retry-After"]) >= 1


def test_refresh_rotates_and_a_used_refresh_token_is_dead(anonymous: httpx.Client, customer: Customer) -> None:
    tokens = anonymous.post("/auth/login", json={"email": customer.email, "password": USER_PASSWORD}).json()

    rotated = anonymous.post("/auth/refresh", json={"refresh": tokens["refresh"]})
    reused = anonymous.post("/auth/refresh", json={"refresh": tokens["refresh"]})

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert_problem(reused, 401)


def test_logout_kills_the_refresh_token(anonymous: httpx.Client, customer: Customer) -> None:
    tokens = anonymous.post("/auth/login", json={"email": customer.email, "password": USER_PASSWORD}).json()

    logout = customer.api.post("/auth/logout", json={"refresh": tokens["refresh"]})
    refresh = anonymous.post("/auth/refresh", json={"refresh": tokens["refresh"]})

    assert logout.status_code == 204, logout.text
    assert_problem(refresh, 401)


def test_password_change_then_login_with_the_new_password(shop: Shop, customer: Customer) -> None:
    needs_shared_cache(shop)
    changed = customer.api.post("/auth/password/change", json={"old_password": USER_PASSWORD,
                                                               "new_password": "Another-Sturdy-Pass-77"})

    assert changed.status_code == 204, changed.text
    assert_problem(customer.api.get("/users/me"), 401, "not_authenticated")  # every older token is revoked
    assert shop.login(customer.email, "Another-Sturdy-Pass-77")


def test_password_reset_is_always_202(anonymous: httpx.Client, customer: Customer) -> None:
    known = anonymous.post("/auth/password/reset", json={"email": customer.email})
    unknown = anonymous.post("/auth/password/reset", json={"email": unique_email()})
    bad_confirm = anonymous.post("/auth/password/reset/confirm", json={"uid": "x", "token": "y",
                                                                       "new_password": "Another-Sturdy-Pass-77"})

    assert known.status_code == unknown.status_code == 202
    assert_problem(bad_confirm, 400)


def test_me_shows_and_patches_only_the_name(customer: Customer) -> None:
    patched = customer.api.patch("/users/me", json={"name": "Renamed", "role": "admin", "email": "x@example.com"})
    me = customer.api.get("/users/me")

    assert patched.status_code == 200, patched.text
    assert me.json()["name"] == "Renamed"
    assert me.json()["role"] == "customer"
    assert me.json()["email"] == customer.email
    assert set(me.json()) >= {"id", "email", "name", "role", "date_joined"}


def test_addresses_belong_to_their_owner(new_customer) -> None:
    owner, stranger = new_customer(), new_customer()
    created = owner.api.post("/users/me/addresses", json={
        "full_name": "Ann", "street": "1 Main St", "city": "Springfield", "zip_code": "62701", "country": "US",
    })
    address_id = created.json()["id"]

    listed = owner.api.get("/users/me/addresses")
    patched = owner.api.patch(f"/users/me/addresses/{address_id}", json={"city": "Shelbyville"})
    foreign_get = stranger.api.get(f"/users/me/addresses/{address_id}")
    foreign_delete = stranger.api.delete(f"/users/me/addresses/{address_id}")
    bad_country = owner.api.post("/users/me/addresses", json={
        "full_name": "Ann", "street": "1 Main St", "city": "X", "zip_code": "1", "country": "ZZ"})

    assert created.status_code == 201, created.text
    assert listed.json()["count"] == 1
    assert patched.json()["city"] == "Shelbyville"
    assert_problem(foreign_get, 404, "not_found")
    assert_problem(foreign_delete, 404, "not_found")
    assert owner.api.get(f"/users/me/addresses/{address_id}").status_code == 200
    assert_problem(bad_country, 400, "validation_error")
    assert owner.api.delete(f"/users/me/addresses/{address_id}").status_code == 204
    assert owner.api.get("/users/me/addresses").json()["count"] == 0


def test_admin_manages_users_and_a_role_change_ends_the_old_token(shop: Shop, admin: httpx.Client,
                                                                  customer: Customer) -> None:
    needs_shared_cache(shop)
    found = admin.get("/users", params={"search": customer.email})
    promoted = admin.patch(f"/users/{customer.id}", json={"role": "catalog_staff"})
    stale = customer.api.get("/users/me")  # the gateway learns it from the shared cache, in both modes
    fresh = shop.client(shop.login(customer.email, USER_PASSWORD))

    assert found.status_code == 200
    assert [u["id"] for u in found.json()["results"]] == [customer.id]
    assert promoted.json()["role"] == "catalog_staff"
    assert_problem(stale, 401, "not_authenticated")
    assert fresh.get("/users/me").json()["role"] == "catalog_staff"
    fresh.close()


def test_admin_deactivates_a_user_who_then_can_neither_log_in_nor_use_a_token(
        shop: Shop, admin: httpx.Client, anonymous: httpx.Client, customer: Customer) -> None:
    needs_shared_cache(shop)
    assert customer.api.get("/cart").status_code == 200
    deactivated = admin.patch(f"/users/{customer.id}", json={"is_active": False})
    login = anonymous.post("/auth/login", json={"email": customer.email, "password": USER_PASSWORD})
    cart = customer.api.get("/cart")

    assert deactivated.status_code == 200, deactivated.text
    assert_problem(login, 401)
    assert_problem(cart, 401, "not_authenticated")  # the unexpired access token died with the account
