"""The public e-mail verification API: the link a registration mails, ``POST /auth/verify-email`` and every way a link
can be bad, ``POST /auth/verify-email/resend`` and its limits, ``email_verified`` on every user answer, and checkout's
403 ``email_not_verified`` when the shop requires a verified address."""

from __future__ import annotations

import re
import time
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce import auth_limits
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.roles import Role

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"
LINK = re.compile(r"https://shop\.example\.com/verify/(\S+)")

pytestmark = pytest.mark.django_db


class BrokenCache:
    """The shared cache of the limits during an outage (only theirs: the other throttles keep working)."""

    def get(self, *args, **kwargs):
        raise ConnectionError("redis://cache.internal:6379 refused")

    add = incr = decr = set = get


@pytest.fixture(autouse=True)
def _frontend_link(settings) -> None:
    settings.ECOMMERCE_FRONTEND_VERIFY_EMAIL_URL = "https://shop.example.com/verify/{token}"


def mailed_token(email: str) -> str:
    bodies = [message.body for message in mail.outbox if message.to == [email]]
    assert bodies, [message.to for message in mail.outbox]
    return LINK.search(bodies[-1]).group(1)


def register(client: APIClient, email: str = "ada@example.com"):
    return client.post("/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD, "name": "Ada"},
                       format="json")


def signed_in(email: str) -> tuple[APIClient, str]:
    """A client bearing a fresh access token of ``email``, and the refresh token of that sign-in."""
    tokens = users_service.auth_login(email=email, password=DEFAULT_PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    return client, tokens.refresh


def verify(client: APIClient, token) -> object:
    return client.post(VERIFY, {"token": token}, format="json")


# --- the journey --------------------------------------------------------------------------------------------------

def test_register_mail_verify_then_refresh_shows_the_address_verified(api_client, django_capture_on_commit_callbacks):
    # given a new account, signed in, whose mail carries the link
    with django_capture_on_commit_callbacks(execute=True):
        registered = register(api_client)
    assert registered.json()["email_verified"] is False
    me, refresh = signed_in("ada@example.com")
    assert me.get("/api/v1/users/me").json()["email_verified"] is False

    # when the link is opened (anonymously, as from a mail client)
    answer = verify(APIClient(), mailed_token("ada@example.com"))

    # then the address is verified; the access token that said otherwise is refused, and a refresh brings one that
    # says so
    assert answer.status_code == 204, answer.content
    assert_problem(me.get("/api/v1/users/me"), 401, "not_authenticated")
    renewed = api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json")
    assert renewed.status_code == 200, renewed.content
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {renewed.json()['access']}")
    assert me.get("/api/v1/users/me").json()["email_verified"] is True
    assert users_service.auth_login(email="ada@example.com", password=DEFAULT_PASSWORD).user.email_verified


def test_verifying_twice_is_harmless(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register(api_client)
    token = mailed_token("ada@example.com")

    assert verify(api_client, token).status_code == 204
    assert verify(api_client, token).status_code == 204


def test_a_stale_bearer_token_sent_along_is_ignored(make_user, django_capture_on_commit_callbacks):
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    user = make_user(email="ada@example.com")
    users_service.email_verification_resend(user_id=user.id)

    assert verify(stale, mailed_token("ada@example.com")).status_code == 204


# --- bad links ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": None}, {"token": "x" * 513}, {"token": ["a"]},
                                  {"token": 12345}])
def test_a_missing_or_malformed_token_field_is_400(api_client, body):
    body = assert_problem(api_client.post(VERIFY, body, format="json"), 400, "validation_error")

    assert list(body["errors"]) == ["token"]


@pytest.mark.parametrize("token", ["garbage", "a:b:c", "eyJ1c2VyIjoxfQ:1vXyZa:forged"])
def test_a_bad_or_forged_link_is_400_naming_the_token(api_client, make_user, token):
    make_user(email="ada@example.com")

    body = assert_problem(verify(api_client, token), 400, "validation_error")

    assert body["errors"]["token"] == [
        "This verification link is not valid (it was altered, or its account no longer exists); ask for a new one."]
    assert users_service.user_list().results[0].email_verified is False


def test_a_tampered_link_is_400_and_verifies_nobody(api_client, make_user):
    ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com")
    users_service.email_verification_resend(user_id=ada.id)
    token = mailed_token("ada@example.com")
    payload, stamp, signature = token.split(":")

    tampered = verify(api_client, f"{payload}x:{stamp}:{signature}")

    assert_problem(tampered, 400, "validation_error")
    assert not users_service.user_get(user_id=ada.id).email_verified
    assert not users_service.user_get(user_id=bob.id).email_verified


def test_an_expired_link_is_400_and_says_to_ask_again(api_client, make_user, settings, monkeypatch):
    settings.ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS = 1
    user = make_user(email="ada@example.com")
    three_hours_ago = time.time() - 3 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: three_hours_ago)
    users_service.email_verification_resend(user_id=user.id)
    monkeypatch.undo()

    body = assert_problem(verify(api_client, mailed_token("ada@example.com")), 400, "validation_error")

    assert body["errors"]["token"] == ["This verification link has expired; ask for a new one."]
    assert not users_service.user_get(user_id=user.id).email_verified


def test_the_link_of_a_deleted_account_is_400(api_client, make_user):
    user = make_user(email="ada@example.com")
    users_service.email_verification_resend(user_id=user.id)
    users_service.user_delete(user_id=user.id)

    body = assert_problem(verify(api_client, mailed_token("ada@example.com")), 400, "validation_error")

    assert list(body["errors"]) == ["token"]


# --- asking again -------------------------------------------------------------------------------------------------

def test_resend_mails_a_new_link_to_the_caller(client_for):
    client = client_for(Role.CUSTOMER)

    answer = client.post(RESEND)

    assert answer.status_code == 202, answer.content
    assert answer.json() == {"detail": "A new verification link has been sent to your e-mail address."}
    assert verify(APIClient(), mailed_token(client.user.email)).status_code == 204


def test_resend_once_verified_sends_nothing(client_for):
    client = client_for(Role.CUSTOMER)
    users_service.email_verification_resend(user_id=client.user.id)
    verify(APIClient(), mailed_token(client.user.email))
    mail.outbox.clear()
    client, _ = signed_in(client.user.email)  # the older token was revoked by the verification

    answer = client.post(RESEND)

    assert answer.status_code == 202
    assert answer.json() == {"detail": "Your e-mail address is already verified."}
    assert mail.outbox == []


def test_resend_needs_a_signed_in_caller(api_client):
    assert_problem(api_client.post(RESEND), 401, "not_authenticated")


def test_resend_for_a_deleted_account_is_401(client_for):
    client = client_for(Role.CUSTOMER)
    users_service.user_delete(user_id=client.user.id)

    assert_problem(client.post(RESEND), 401, "not_authenticated")
    assert mail.outbox == []


def test_resend_is_limited_per_account(client_for, settings):
    settings.ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT = "2/hour"
    client = client_for(Role.CUSTOMER)
    other_device, _ = signed_in(client.user.email)
    other_device.defaults["REMOTE_ADDR"] = "198.51.100.7"

    answers = [client.post(RESEND), client.post(RESEND), other_device.post(RESEND)]

    assert [answer.status_code for answer in answers[:2]] == [202, 202]
    throttled = assert_problem(answers[2], 429, "throttled")
    assert "verification" in throttled["detail"]
    assert int(answers[2]["Retry-After"]) >= 1
    assert len(mail.outbox) == 2


def test_resend_is_limited_per_client(client_for, settings):
    settings.ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP = "2/hour"
    clients = [client_for(Role.CUSTOMER) for _ in range(3)]

    answers = [client.post(RESEND) for client in clients]

    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert len(mail.outbox) == 2


def test_resend_while_the_shared_cache_is_down_is_503(client_for, monkeypatch):
    client = client_for(Role.CUSTOMER)

    monkeypatch.setattr(auth_limits, "cache", BrokenCache())

    body = assert_problem(client.post(RESEND), 503, "service_unavailable")
    assert "cache.internal" not in str(body)
    assert mail.outbox == []


def test_resend_while_mail_cannot_be_handed_over_is_503(client_for, monkeypatch):
    client = client_for(Role.CUSTOMER)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp.internal:25")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)

    body = assert_problem(client.post(RESEND), 503, "service_unavailable")
    assert "smtp.internal" not in str(body)


# --- email_verified on user answers -------------------------------------------------------------------------------

def test_admin_user_views_show_email_verified(admin_client_api, make_user):
    ada = make_user(email="ada@example.com")
    users_service.email_verification_resend(user_id=ada.id)
    verify(APIClient(), mailed_token("ada@example.com"))

    one = admin_client_api.get(f"/api/v1/users/{ada.id}").json()
    listed = admin_client_api.get("/api/v1/users", {"search": "ada@"}).json()["results"]
    patched = admin_client_api.patch(f"/api/v1/users/{ada.id}", {"name": "Countess", "email_verified": False},
                                     format="json").json()

    assert one["email_verified"] is True
    assert [user["email_verified"] for user in listed] == [True]
    assert patched["email_verified"] is True  # read-only: a client cannot set it


def test_a_customer_cannot_set_email_verified_on_themselves(customer_client):
    answer = customer_client.patch("/api/v1/users/me", {"email_verified": True}, format="json")

    assert answer.status_code == 200
    assert answer.json()["email_verified"] is False


# --- checkout -----------------------------------------------------------------------------------------------------

def ready_to_check_out(client: APIClient) -> tuple[int, int]:
    user_id = client.user.id
    product = products_service.product_create(product=ProductInput(
        sku=f"VERIFY-{uuid.uuid4().hex[:8]}", name="Verified lamp", price=Decimal("12.00"), stock=3))
    added = client.post("/api/v1/cart/items", {"product_id": product.id, "quantity": 1}, format="json")
    assert added.status_code == 201, added.content
    address = users_service.address_create(user_id=user_id, address=AddressInput(
        full_name="Ada Lovelace", street="1 Analytical Way", city="London", zip_code="N1 7AA", country="GB"))
    return product.id, address.id


def check_out(client: APIClient, address_id: int, key: str):
    return client.post("/api/v1/orders", {"address_id": address_id}, format="json", headers={"Idempotency-Key": key})


def test_when_required_an_unverified_account_cannot_check_out_until_it_verifies(client_for, settings):
    # given a shop that requires verified addresses, and an unverified customer with a full cart
    settings.ECOMMERCE_REQUIRE_VERIFIED_EMAIL = True
    client = client_for(Role.CUSTOMER)
    product_id, address_id = ready_to_check_out(client)
    key = uuid.uuid4().hex

    # when they check out, then 403 and nothing is reserved or ordered
    refused = assert_problem(check_out(client, address_id, key), 403, "email_not_verified")
    assert "verify-email/resend" in refused["detail"]
    assert products_service.product_get(product_id=product_id).stock == 3
    assert users_service.user_get(user_id=client.user.id).email_verified is False

    # when they verify and their client refreshes, then the same key checks out
    users_service.email_verification_resend(user_id=client.user.id)
    verify(APIClient(), mailed_token(client.user.email))
    verified, _ = signed_in(client.user.email)
    placed = check_out(verified, address_id, key)
    assert placed.status_code == 201, placed.content
    assert products_service.product_get(product_id=product_id).stock == 2


def test_by_default_an_unverified_account_checks_out(customer_client, settings):
    assert settings.ECOMMERCE_REQUIRE_VERIFIED_EMAIL is False
    _, address_id = ready_to_check_out(customer_client)

    assert check_out(customer_client, address_id, uuid.uuid4().hex).status_code == 201


# --- the schema ---------------------------------------------------------------------------------------------------

def test_the_schema_documents_verification_and_its_problems():
    generator = SchemaGenerator(patterns=[path("api/v1/", include("apps.gateway.urls"))])

    paths = generator.get_schema(request=None, public=True)["paths"]

    confirm, resend = paths[VERIFY]["post"], paths[RESEND]["post"]
    assert {"204", "400", "429"} <= set(confirm["responses"])
    assert "401" not in confirm["responses"]
    assert confirm["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/VerifyEmailInputRequest")
    assert {"202", "401", "429"} <= set(resend["responses"])
    assert "application/problem+json" in resend["responses"]["429"]["content"]
    assert "403" in paths["/api/v1/orders"]["post"]["responses"]
    schemas = generator.get_schema(request=None, public=True)["components"]["schemas"]
    assert schemas["UserOutput"]["properties"]["email_verified"]["type"] == "boolean"
    assert "email_verified" in schemas["AdminUserOutput"]["properties"]
