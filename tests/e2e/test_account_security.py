"""Account security over HTTP, identical in the monolith and the split deployment: a new account verifies its address
with the link it was mailed, and a stolen refresh token used after its owner's rotation ends the sign-in for both
of them and tells the owner by e-mail."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.conftest import (
    REFRESH_REUSE_GRACE_SECONDS,
    USER_PASSWORD,
    Customer,
    Shop,
    assert_problem,
    mails_to,
    needs_shared_cache,
    text_of,
    unique_email,
)

pytestmark = pytest.mark.e2e

VERIFY_LINK = re.compile(r"/verify-email/(\S+)")


def mailed_token(shop: Shop, email: str, *, at_least: int = 1) -> str:
    message = mails_to(shop, email, at_least=at_least)[-1]
    assert message["Subject"] == "Confirm your e-mail address"
    return VERIFY_LINK.search(text_of(message)).group(1)


def sign_in(anonymous: httpx.Client, email: str) -> dict:
    response = anonymous.post("/auth/login", json={"email": email, "password": USER_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_new_account_verifies_its_address_with_the_mailed_link(shop: Shop, anonymous: httpx.Client) -> None:
    needs_shared_cache(shop)
    # given a new account, signed in, and the link it was mailed
    email = unique_email("verify")
    registered = anonymous.post("/auth/register", json={"email": email, "password": USER_PASSWORD, "name": "Vera"})
    assert registered.status_code == 201, registered.text
    assert registered.json()["email_verified"] is False
    tokens = sign_in(anonymous, email)
    token = mailed_token(shop, email)

    # when an altered link is posted, then 400 on the token; the real link verifies, and twice is harmless
    payload, stamp, signature = token.split(":")
    altered = anonymous.post("/auth/verify-email", json={"token": f"{payload}:{stamp}:{signature[::-1]}"})
    assert "token" in assert_problem(altered, 400, "validation_error")["errors"]
    assert anonymous.post("/auth/verify-email", json={"token": token}).status_code == 204
    assert anonymous.post("/auth/verify-email", json={"token": token}).status_code == 204

    # then the access token that said otherwise is refused, and the client's refresh brings one that says so
    with shop.client(tokens["access"]) as stale:
        assert_problem(stale.get("/users/me"), 401, "not_authenticated")
    renewed = anonymous.post("/auth/refresh", json={"refresh": tokens["refresh"]})
    assert renewed.status_code == 200, renewed.text
    with shop.client(renewed.json()["access"]) as fresh:
        assert fresh.get("/users/me").json()["email_verified"] is True


def test_a_signed_in_customer_asks_for_another_link_which_works(shop: Shop, anonymous: httpx.Client,
                                                                 customer: Customer) -> None:
    mailed_token(shop, customer.email)  # the one sent at registration

    resent = customer.api.post("/auth/verify-email/resend")

    assert resent.status_code == 202, resent.text
    token = mailed_token(shop, customer.email, at_least=2)
    assert anonymous.post("/auth/verify-email", json={"token": token}).status_code == 204


def test_a_stolen_refresh_token_ends_the_sign_in_for_thief_and_owner(shop: Shop, anonymous: httpx.Client,
                                                                      customer: Customer) -> None:
    needs_shared_cache(shop)
    # given an owner's sign-in whose refresh token was copied, and the owner's client refreshing as usual
    owner = sign_in(anonymous, customer.email)
    stolen = owner["refresh"]
    renewed = anonymous.post("/auth/refresh", json={"refresh": owner["refresh"]})
    assert renewed.status_code == 200, renewed.text
    renewed_tokens = renewed.json()

    # when the old token comes back at once (a second tab), then it is refused and the sign-in lives on
    assert_problem(anonymous.post("/auth/refresh", json={"refresh": stolen}), 401, "invalid_token")
    with shop.client(renewed_tokens["access"]) as owners_api:
        assert owners_api.get("/users/me").status_code == 200

    # when the thief uses the copy later
    time.sleep(REFRESH_REUSE_GRACE_SECONDS + 0.5)
    thief = anonymous.post("/auth/refresh", json={"refresh": stolen})

    # then the thief gets nothing, and every token of the sign-in is refused, refresh and access alike
    assert_problem(thief, 401, "invalid_token")
    assert_problem(anonymous.post("/auth/refresh", json={"refresh": renewed_tokens["refresh"]}), 401,
                   "invalid_token")
    with shop.client(renewed_tokens["access"]) as owners_api:
        assert_problem(owners_api.get("/users/me"), 401, "not_authenticated")
    # and the owner is told by e-mail
    alerts = [m for m in mails_to(shop, customer.email, at_least=2) if "sign-in" in m["Subject"]]
    assert len(alerts) == 1, [m["Subject"] for m in mails_to(shop, customer.email)]
    assert "change your password" in text_of(alerts[0])
    # and signs in again
    assert sign_in(anonymous, customer.email)["access"]
