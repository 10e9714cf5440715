"""The public accounts API (/api/v1/auth/*, /api/v1/users*): every endpoint, its permissions and its error cases."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce import auth_limits
from ecommerce.contracts.users import AddressInput, UserChanges, users_service
from ecommerce.roles import Role

NEW_PASSWORD = "Another-Stable-Staple-7"
USER_FIELDS = {"id", "email", "name", "role", "email_verified", "date_joined"}
ADDRESS_FIELDS = {"id", "full_name", "street", "city", "state", "zip_code", "country", "phone", "is_default"}
HOME = {"full_name": "Ada Lovelace", "street": "1 Analytical Way", "city": "London", "state": "",
        "zip_code": "N1 7AA", "country": "GB", "phone": "+44 20 7946 0000"}

pytestmark = pytest.mark.django_db


class BrokenCache:
    """The shared cache of the limits during an outage (only theirs: the other throttles keep working)."""

    def get(self, *args, **kwargs):
        raise ConnectionError("redis://cache.internal:6379 refused")

    add = incr = decr = set = get


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def user_count() -> int:
    return users_service.user_list(page_size=1).count


# --- register ---------------------------------------------------------------------------------------------------

def test_register_creates_a_customer_and_ignores_mass_assignment(api_client):
    response = api_client.post("/api/v1/auth/register", {
        "email": "Ada@Example.com", "password": DEFAULT_PASSWORD, "name": "Ada",
        "role": "admin", "is_staff": True, "is_superuser": True, "id": 999, "is_active": False,
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_FIELDS
    assert (body["email"], body["name"], body["role"]) == ("ada@example.com", "Ada", "customer")
    stored = users_service.user_get(user_id=body["id"])
    assert (stored.role, stored.is_active, stored.is_staff) == (Role.CUSTOMER, True, False)


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.Com"])
def test_register_duplicate_email_in_any_case_is_400(api_client, make_user, email):
    make_user(email="ada@example.com")

    response = api_client.post("/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD,
                                                         "name": "Other"}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert "email" in body["errors"]
    assert user_count() == 1


@pytest.mark.parametrize("password", ["short", "password", "1234567890123", "ada@example.com"])
def test_register_weak_password_is_400_and_writes_nothing(api_client, password):
    response = api_client.post("/api/v1/auth/register", {"email": "ada@example.com", "password": password,
                                                         "name": "Ada"}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["password"]
    assert user_count() == 0


@pytest.mark.parametrize("body", [
    {}, {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
    {"email": "not-an-email", "password": DEFAULT_PASSWORD, "name": "Ada"},
    {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "name": "n" * 151},
    {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "name": ""},
])
def test_register_bad_input_is_400(api_client, body):
    assert_problem(api_client.post("/api/v1/auth/register", body, format="json"), 400, "validation_error")
    assert user_count() == 0


def test_register_rejects_non_json_body(api_client):
    response = api_client.post("/api/v1/auth/register", "email=a", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert user_count() == 0


def register_from(address: str, email: str, password: str = DEFAULT_PASSWORD):
    return APIClient(REMOTE_ADDR=address).post("/api/v1/auth/register", {
        "email": email, "password": password, "name": "Ada"}, format="json")


def test_registration_attempts_are_limited_per_client(settings):
    settings.ECOMMERCE_THROTTLE_REGISTER_IP = "3/hour"
    attempts = [
        register_from("203.0.113.5", "ada@example.com"),
        register_from("203.0.113.5", "ada@example.com"),  # taken: a failure counts too
        register_from("203.0.113.5", "bob@example.com", password="password"),
    ]

    throttled = register_from("203.0.113.5", "carl@example.com")
    elsewhere = register_from("198.51.100.9", "dora@example.com")

    assert [attempt.status_code for attempt in attempts] == [201, 400, 400]
    body = assert_problem(throttled, 429, "throttled")
    assert "registrations" in body["detail"]
    assert int(throttled["Retry-After"]) >= 1
    assert elsewhere.status_code == 201
    assert {user.email for user in users_service.user_list().results} == {"ada@example.com", "dora@example.com"}


def test_a_malformed_registration_is_not_counted(settings):
    settings.ECOMMERCE_THROTTLE_REGISTER_IP = "1/hour"

    malformed = APIClient(REMOTE_ADDR="203.0.113.5").post("/api/v1/auth/register", {"email": "x"}, format="json")

    assert_problem(malformed, 400, "validation_error")
    assert register_from("203.0.113.5", "ada@example.com").status_code == 201


def test_registration_while_the_shared_cache_is_down_is_503_and_creates_nothing(api_client, monkeypatch):
    monkeypatch.setattr(auth_limits, "cache", BrokenCache())

    response = api_client.post("/api/v1/auth/register", {"email": "ada@example.com", "password": DEFAULT_PASSWORD,
                                                         "name": "Ada"}, format="json")

    assert_problem(response, 503, "service_unavailable")
    assert user_count() == 0


# --- login ------------------------------------------------------------------------------------------------------

def test_login_returns_tokens_and_user(api_client, make_user):
    user = make_user(email="ada@example.com", name="Ada")

    response = login(api_client, "ADA@example.com")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert set(body["user"]) == USER_FIELDS
    assert body["user"]["id"] == user.id
    access = AccessToken(body["access"])
    assert (access["user_id"], access["role"]) == (str(user.id), "customer")
    assert bearer(body["access"]).get("/api/v1/users/me").json()["id"] == user.id


@pytest.mark.parametrize(("email", "password"), [
    ("ada@example.com", "wrong-password"), ("nobody@example.com", DEFAULT_PASSWORD),
])
def test_login_bad_credentials_is_401(api_client, make_user, email, password):
    make_user(email="ada@example.com")

    assert_problem(login(api_client, email, password), 401, "invalid_credentials")


def test_login_of_deactivated_user_is_401(api_client, make_user):
    user = make_user(email="ada@example.com")
    users_service.user_update(user_id=user.id, changes=UserChanges(is_active=False))

    assert_problem(login(api_client, "ada@example.com"), 401, "invalid_credentials")


def test_login_missing_fields_is_400(api_client):
    assert_problem(api_client.post("/api/v1/auth/login", {"email": "a@b.c"}, format="json"), 400, "validation_error")


def test_login_is_throttled_per_account_and_client_after_failures(api_client, make_user, settings):
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "3/15min"
    make_user(email="ada@example.com")
    make_user(email="bob@example.com")

    for _ in range(3):
        assert_problem(login(api_client, "ada@example.com", "wrong"), 401, "invalid_credentials")
    throttled = login(api_client, "ADA@example.com")  # even the right password is refused now, from here

    assert_problem(throttled, 429, "throttled")
    assert 0 < int(throttled["Retry-After"]) <= 15 * 60
    assert login(api_client, "bob@example.com").status_code == 200  # another account is unaffected
    assert login(APIClient(REMOTE_ADDR="10.9.8.7"), "ada@example.com").status_code == 200  # the owner, elsewhere


def test_login_is_throttled_per_ip_after_failures(api_client, make_user, settings):
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP = "3/15min"
    make_user(email="ada@example.com")

    for index in range(3):
        assert_problem(login(api_client, f"nobody{index}@example.com", "wrong"), 401, "invalid_credentials")
    throttled = login(api_client, "ada@example.com")
    other_ip = APIClient(REMOTE_ADDR="10.9.8.7")

    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert login(other_ip, "ada@example.com").status_code == 200


def test_successful_logins_are_not_counted(api_client, make_user, settings):
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "2/15min"
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = "2/15min"
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP = "2/15min"
    make_user(email="ada@example.com")

    for _ in range(5):
        assert login(api_client, "ada@example.com").status_code == 200
    assert_problem(login(api_client, "ada@example.com", "wrong"), 401, "invalid_credentials")
    assert login(api_client, "ada@example.com").status_code == 200


# --- refresh ----------------------------------------------------------------------------------------------------

def test_refresh_rotates_and_the_old_refresh_is_dead(api_client, make_user):
    make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()

    rotated = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    reused = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")

    assert rotated.status_code == 200, rotated.content
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert_problem(reused, 401, "invalid_token")
    again = api_client.post("/api/v1/auth/refresh", {"refresh": rotated.json()["refresh"]}, format="json")
    assert again.status_code == 200


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c"])
def test_refresh_with_invalid_token_is_401(api_client, refresh):
    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json"), 401, "invalid_token")


def test_refresh_with_an_access_token_is_401(api_client, make_user):
    make_user(email="ada@example.com")
    access = login(api_client, "ada@example.com").json()["access"]

    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": access}, format="json"), 401, "invalid_token")


def test_refresh_ignores_a_stale_access_token_in_the_header(make_user):
    make_user(email="ada@example.com")
    tokens = login(APIClient(), "ada@example.com").json()
    client = bearer("expired-or-garbage")

    response = client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200


def test_role_change_ends_the_old_access_token_and_the_refresh_carries_the_new_role(api_client, make_user,
                                                                                     admin_client_api):
    user = make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()
    assert_problem(bearer(tokens["access"]).get("/api/v1/users"), 403, "permission_denied")

    promoted = admin_client_api.patch(f"/api/v1/users/{user.id}", {"role": "admin"}, format="json")
    assert promoted.status_code == 200
    # The old access token no longer carries the truth, so it stops working at once...
    assert_problem(bearer(tokens["access"]).get("/api/v1/users/me"), 401, "not_authenticated")

    fresh = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").json()

    assert AccessToken(fresh["access"])["role"] == "admin"
    assert bearer(fresh["access"]).get("/api/v1/users").status_code == 200


def test_deactivation_blacklists_refresh_tokens(api_client, make_user, admin_client_api):
    user = make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()

    response = admin_client_api.patch(f"/api/v1/users/{user.id}", {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"),
                   401, "invalid_token")
    assert_problem(login(api_client, "ada@example.com"), 401, "invalid_credentials")


# --- logout -----------------------------------------------------------------------------------------------------

def test_logout_kills_the_refresh_token(api_client, make_user):
    make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()
    client = bearer(tokens["access"])

    response = client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 204
    assert client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"),
                   401, "invalid_token")


def test_logout_needs_authentication(api_client, make_user):
    make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()

    assert_problem(api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json"),
                   401, "not_authenticated")
    assert_problem(bearer("garbage").post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json"),
                   401, "not_authenticated")
    assert api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 200


def test_logout_with_another_users_refresh_is_401_and_leaves_it_alive(api_client, make_user, customer_client):
    make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()

    response = customer_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

    assert_problem(response, 401, "invalid_token")
    assert api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 200


def test_logout_without_refresh_is_400(customer_client):
    assert_problem(customer_client.post("/api/v1/auth/logout", {}, format="json"), 400, "validation_error")


# --- passwords --------------------------------------------------------------------------------------------------

def test_password_change_flow(api_client, make_user):
    make_user(email="ada@example.com")
    tokens = login(api_client, "ada@example.com").json()
    client = bearer(tokens["access"])

    wrong_old = client.post("/api/v1/auth/password/change",
                            {"old_password": "wrong", "new_password": NEW_PASSWORD}, format="json")
    weak_new = client.post("/api/v1/auth/password/change",
                           {"old_password": DEFAULT_PASSWORD, "new_password": "12345"}, format="json")
    assert list(assert_problem(wrong_old, 400, "validation_error")["errors"]) == ["old_password"]
    assert list(assert_problem(weak_new, 400, "validation_error")["errors"]) == ["new_password"]
    assert login(api_client, "ada@example.com").status_code == 200  # nothing changed yet

    changed = client.post("/api/v1/auth/password/change",
                          {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json")

    assert changed.status_code == 204
    assert_problem(login(api_client, "ada@example.com"), 401, "invalid_credentials")
    assert login(api_client, "ada@example.com", NEW_PASSWORD).status_code == 200
    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"),
                   401, "invalid_token")


def test_password_change_needs_authentication(api_client):
    response = api_client.post("/api/v1/auth/password/change",
                               {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert_problem(response, 401, "not_authenticated")


def reset_link_parts() -> tuple[str, str]:
    assert len(mail.outbox) == 1
    match = re.search(r"https://shop\.test/reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match["uid"], match["token"]


def test_password_reset_flow(api_client, make_user, settings):
    settings.ECOMMERCE_FRONTEND_PASSWORD_RESET_URL = "https://shop.test/reset/{uid}/{token}"
    make_user(email="ada@example.com")
    old_refresh = login(api_client, "ada@example.com").json()["refresh"]

    requested = api_client.post("/api/v1/auth/password/reset", {"email": "ADA@example.com"}, format="json")

    assert requested.status_code == 202
    assert mail.outbox[0].to == ["ada@example.com"]
    uid, token = reset_link_parts()
    weak = api_client.post("/api/v1/auth/password/reset/confirm",
                           {"uid": uid, "token": token, "new_password": "123"}, format="json")
    assert list(assert_problem(weak, 400, "validation_error")["errors"]) == ["new_password"]

    confirmed = api_client.post("/api/v1/auth/password/reset/confirm",
                                {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json")

    assert confirmed.status_code == 204
    assert login(api_client, "ada@example.com", NEW_PASSWORD).status_code == 200
    assert_problem(api_client.post("/api/v1/auth/refresh", {"refresh": old_refresh}, format="json"),
                   401, "invalid_token")
    reused = api_client.post("/api/v1/auth/password/reset/confirm",
                             {"uid": uid, "token": token, "new_password": "Third-Password-Here-3"}, format="json")
    assert list(assert_problem(reused, 400, "validation_error")["errors"]) == ["token"]
    assert login(api_client, "ada@example.com", NEW_PASSWORD).status_code == 200


def test_password_reset_for_unknown_email_is_202_and_sends_nothing(api_client):
    response = api_client.post("/api/v1/auth/password/reset", {"email": "nobody@example.com"}, format="json")

    assert response.status_code == 202
    assert "detail" in response.json()
    assert mail.outbox == []


def test_password_reset_answers_the_same_for_known_and_unknown(api_client, make_user):
    make_user(email="ada@example.com")

    known = api_client.post("/api/v1/auth/password/reset", {"email": "ada@example.com"}, format="json")
    unknown = api_client.post("/api/v1/auth/password/reset", {"email": "bob@example.com"}, format="json")

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


@pytest.mark.parametrize(("uid", "token"), [("MQ", "bad-token"), ("!!!", "x"), ("OTk5OTk5", "abc-def")])
def test_password_reset_confirm_with_bad_link_is_400(api_client, make_user, uid, token):
    make_user(email="ada@example.com")

    response = api_client.post("/api/v1/auth/password/reset/confirm",
                               {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json")

    assert list(assert_problem(response, 400, "validation_error")["errors"]) == ["token"]
    assert login(api_client, "ada@example.com").status_code == 200


# --- users/me ---------------------------------------------------------------------------------------------------

def test_me_shows_the_caller(customer_client):
    response = customer_client.get("/api/v1/users/me")

    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["id"] == customer_client.user.id


def test_me_patch_changes_name_only(customer_client):
    response = customer_client.patch("/api/v1/users/me", {
        "name": "Countess", "role": "admin", "email": "evil@example.com", "is_active": False, "id": 1,
    }, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["role"], body["email"]) == ("Countess", "customer", customer_client.user.email)
    stored = users_service.user_get(user_id=customer_client.user.id)
    assert (stored.name, stored.role, stored.is_active) == ("Countess", Role.CUSTOMER, True)


def test_me_patch_blank_name_is_400(customer_client):
    assert_problem(customer_client.patch("/api/v1/users/me", {"name": ""}, format="json"), 400, "validation_error")
    assert users_service.user_get(user_id=customer_client.user.id).name == customer_client.user.name


def test_me_needs_authentication(api_client):
    assert_problem(api_client.get("/api/v1/users/me"), 401, "not_authenticated")
    assert_problem(api_client.patch("/api/v1/users/me", {"name": "x"}, format="json"), 401, "not_authenticated")


def test_a_deleted_users_unexpired_token_no_longer_names_anyone(customer_client):
    address = customer_client.post("/api/v1/users/me/addresses", HOME, format="json").json()
    users_service.user_delete(user_id=customer_client.user.id)

    answers = [
        customer_client.get("/api/v1/users/me"),
        customer_client.patch("/api/v1/users/me", {"name": "Ghost"}, format="json"),
        customer_client.post("/api/v1/users/me/addresses", HOME, format="json"),
        customer_client.post("/api/v1/auth/password/change",
                             {"old_password": "x", "new_password": "Another-Long-Pass-77"}, format="json"),
    ]

    answers.append(customer_client.get(f"/api/v1/users/me/addresses/{address['id']}"))

    for answer in answers:  # the token was revoked with the account: it names no one, whatever it asks for
        assert_problem(answer, 401, "not_authenticated")


# --- users (admin) ----------------------------------------------------------------------------------------------

def test_user_list_is_paginated_and_searchable(admin_client_api, make_user):
    make_user(email="ada@example.com", name="Ada Lovelace")
    make_user(email="bob@example.com", name="Bob")
    make_user(email="carol@example.com", name="Carol Adams")

    everyone = admin_client_api.get("/api/v1/users", {"page_size": 2})
    searched = admin_client_api.get("/api/v1/users", {"search": "ADA"})

    assert everyone.status_code == 200
    body = everyone.json()
    assert (body["count"], len(body["results"]), body["previous"]) == (4, 2, None)
    assert "page=2" in body["next"]
    assert set(body["results"][0]) >= USER_FIELDS
    assert [user["email"] for user in searched.json()["results"]] == ["ada@example.com", "carol@example.com"]
    assert_problem(admin_client_api.get("/api/v1/users", {"page": 9}), 404, "not_found")
    assert_problem(admin_client_api.get("/api/v1/users", {"page": "x"}), 400, "validation_error")


@pytest.mark.parametrize("page_size", [1, 5, 30])
def test_user_list_query_count_is_constant(admin_client_api, make_user, django_assert_max_num_queries, page_size):
    for index in range(30):
        make_user(email=f"user-{index}@example.com")

    with django_assert_max_num_queries(2):
        response = admin_client_api.get("/api/v1/users", {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/users"), ("get", "/api/v1/users/1"), ("patch", "/api/v1/users/1"), ("delete", "/api/v1/users/1"),
])
def test_user_admin_endpoints_need_an_admin(api_client, client_for, method, path):
    assert_problem(getattr(api_client, method)(path), 401, "not_authenticated")
    for role in (Role.CUSTOMER, Role.CATALOG_STAFF, Role.ORDER_STAFF):
        assert_problem(getattr(client_for(role), method)(path, {}, format="json"), 403, "permission_denied")


def test_admin_gets_patches_and_deletes_a_user(admin_client_api, make_user):
    user = make_user(email="ada@example.com", name="Ada")

    shown = admin_client_api.get(f"/api/v1/users/{user.id}")
    patched = admin_client_api.patch(f"/api/v1/users/{user.id}", {
        "name": "Countess", "role": "catalog_staff", "email": "x@example.com", "is_staff": False,
    }, format="json")

    assert shown.status_code == 200
    assert shown.json()["email"] == "ada@example.com"
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["role"], patched.json()["email"]) == (
        "Countess", "catalog_staff", "ada@example.com")
    stored = users_service.user_get(user_id=user.id)
    assert (stored.role, stored.is_staff) == (Role.CATALOG_STAFF, True)

    assert admin_client_api.delete(f"/api/v1/users/{user.id}").status_code == 204
    assert_problem(admin_client_api.get(f"/api/v1/users/{user.id}"), 404, "not_found")
    assert_problem(admin_client_api.delete(f"/api/v1/users/{user.id}"), 404, "not_found")
    assert_problem(admin_client_api.patch(f"/api/v1/users/{user.id}", {"name": "x"}, format="json"), 404, "not_found")


@pytest.mark.parametrize("body", [{"role": "emperor"}, {"role": None}, {"is_active": "maybe"}, {"name": ""}])
def test_admin_patch_with_bad_values_is_400_and_changes_nothing(admin_client_api, make_user, body):
    user = make_user(email="ada@example.com", name="Ada")

    assert_problem(admin_client_api.patch(f"/api/v1/users/{user.id}", body, format="json"), 400, "validation_error")
    assert users_service.user_get(user_id=user.id) == user


# --- addresses --------------------------------------------------------------------------------------------------

def test_address_create_list_and_first_is_default(customer_client):
    first = customer_client.post("/api/v1/users/me/addresses", {**HOME, "id": 77, "user_id": 1}, format="json")
    second = customer_client.post("/api/v1/users/me/addresses", {**HOME, "street": "2 Engine Rd"}, format="json")

    assert first.status_code == 201, first.content
    assert set(first.json()) == ADDRESS_FIELDS
    assert (first.json()["country"], first.json()["is_default"]) == ("GB", True)
    assert second.json()["is_default"] is False
    listing = customer_client.get("/api/v1/users/me/addresses").json()
    assert listing["count"] == 2
    assert [a["id"] for a in listing["results"]] == [first.json()["id"], second.json()["id"]]


def test_address_new_default_unsets_the_old_one(customer_client):
    first = customer_client.post("/api/v1/users/me/addresses", HOME, format="json").json()
    second = customer_client.post("/api/v1/users/me/addresses", {**HOME, "is_default": True}, format="json").json()

    assert second["is_default"] is True
    assert customer_client.get(f"/api/v1/users/me/addresses/{first['id']}").json()["is_default"] is False


@pytest.mark.parametrize(("field", "value"), [
    ("country", "XX"), ("country", "GBR"), ("country", "United Kingdom"), ("zip_code", "9" * 21),
    ("full_name", "n" * 151), ("phone", "1" * 33), ("street", ""), ("is_default", "perhaps"),
])
def test_address_invalid_input_is_400_and_writes_nothing(customer_client, field, value):
    response = customer_client.post("/api/v1/users/me/addresses", {**HOME, field: value}, format="json")

    assert list(assert_problem(response, 400, "validation_error")["errors"]) == [field]
    assert customer_client.get("/api/v1/users/me/addresses").json()["count"] == 0


def test_address_missing_required_fields_is_400(customer_client):
    response = customer_client.post("/api/v1/users/me/addresses", {"full_name": "Ada"}, format="json")

    errors = assert_problem(response, 400, "validation_error")["errors"]
    assert {"street", "city", "zip_code", "country"} <= set(errors)


def test_address_get_put_patch_delete(customer_client):
    address = customer_client.post("/api/v1/users/me/addresses", HOME, format="json").json()
    url = f"/api/v1/users/me/addresses/{address['id']}"

    assert customer_client.get(url).json() == address
    replaced = customer_client.put(url, {**HOME, "city": "Oxford", "country": "FR", "phone": "", "id": 5},
                                   format="json")
    assert replaced.status_code == 200
    assert (replaced.json()["city"], replaced.json()["country"], replaced.json()["id"]) == ("Oxford", "FR",
                                                                                            address["id"])
    patched = customer_client.patch(url, {"zip_code": "OX1"}, format="json")
    assert (patched.json()["zip_code"], patched.json()["city"]) == ("OX1", "Oxford")
    incomplete_put = customer_client.put(url, {"city": "Bath"}, format="json")
    assert_problem(incomplete_put, 400, "validation_error")
    bad_patch = customer_client.patch(url, {"country": "ZZ", "city": "Bath"}, format="json")
    assert list(assert_problem(bad_patch, 400, "validation_error")["errors"]) == ["country"]
    assert customer_client.get(url).json()["city"] == "Oxford"

    assert customer_client.delete(url).status_code == 204
    assert_problem(customer_client.get(url), 404, "not_found")


def test_put_without_is_default_keeps_the_default(customer_client):
    address = customer_client.post("/api/v1/users/me/addresses", HOME, format="json").json()
    url = f"/api/v1/users/me/addresses/{address['id']}"

    replaced = customer_client.put(url, {**HOME, "city": "Oxford"}, format="json")
    undefaulted = customer_client.patch(url, {"is_default": False}, format="json")

    assert replaced.json()["is_default"] is True
    assert undefaulted.json()["is_default"] is False


def test_password_reset_with_a_malformed_address_is_still_202(api_client):
    response = api_client.post("/api/v1/auth/password/reset", {"email": "not-an-email"}, format="json")

    assert response.status_code == 202
    assert mail.outbox == []


def test_another_users_address_is_404(client_for):
    owner, stranger = client_for(Role.CUSTOMER), client_for(Role.CUSTOMER)
    address = owner.post("/api/v1/users/me/addresses", HOME, format="json").json()
    url = f"/api/v1/users/me/addresses/{address['id']}"

    assert_problem(stranger.get(url), 404, "not_found")
    assert_problem(stranger.put(url, HOME, format="json"), 404, "not_found")
    assert_problem(stranger.patch(url, {"city": "Bath"}, format="json"), 404, "not_found")
    assert_problem(stranger.delete(url), 404, "not_found")
    assert stranger.get("/api/v1/users/me/addresses").json()["count"] == 0
    assert owner.get(url).json() == address


def test_addresses_need_authentication(api_client):
    assert_problem(api_client.get("/api/v1/users/me/addresses"), 401, "not_authenticated")
    assert_problem(api_client.post("/api/v1/users/me/addresses", HOME, format="json"), 401, "not_authenticated")
    assert_problem(api_client.get("/api/v1/users/me/addresses/1"), 401, "not_authenticated")


@pytest.mark.parametrize("page_size", [1, 5, 25])
def test_address_list_query_count_is_constant(customer_client, django_assert_max_num_queries, page_size):
    for _ in range(25):
        users_service.address_create(user_id=customer_client.user.id, address=AddressInput(**HOME))

    with django_assert_max_num_queries(2):
        response = customer_client.get("/api/v1/users/me/addresses", {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


# --- the schema documents the accounts endpoints ---------------------------------------------------------------

def test_schema_documents_accounts_endpoints(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    login_responses = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(login_responses)
    assert "201" in paths["/api/v1/auth/register"]["post"]["responses"]
    assert "204" in paths["/api/v1/users/me/addresses/{address_id}"]["delete"]["responses"]
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/users/me/addresses/{address_id}"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/users/{user_id}"])


