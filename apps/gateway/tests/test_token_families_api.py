"""Refresh-token families over the public API: a stolen refresh token used after its owner's rotation ends the whole
sign-in (the thief's and the owner's refresh and access tokens), the owner is told by e-mail, the user's other
sign-ins carry on after one refresh; a client racing itself is not taken for a thief; logout ends the family."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD

REFRESH = "/api/v1/auth/refresh"

pytestmark = pytest.mark.django_db


def sign_in(email: str) -> dict:
    response = APIClient().post("/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def no_grace(settings) -> None:
    """Every reuse comes later than a client racing itself would (the grace is tested on its own below)."""
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 0


def test_a_stolen_refresh_token_used_after_the_owners_rotation_ends_both_sessions(
        make_user, no_grace, django_capture_on_commit_callbacks):
    # given an owner signed in on a phone, whose refresh token was copied, and signed in on a laptop too
    make_user(email="ada@example.com", name="Ada")
    phone = sign_in("ada@example.com")
    stolen = phone["refresh"]
    laptop = sign_in("ada@example.com")
    renewed = refresh(phone["refresh"]).json()  # the phone refreshes as usual

    # when the thief uses the copy
    with django_capture_on_commit_callbacks(execute=True):
        thief = refresh(stolen)

    # then the thief gets nothing, and the phone's sign-in has ended: its refresh and access tokens are refused
    assert_problem(thief, 401, "invalid_token")
    assert_problem(refresh(renewed["refresh"]), 401, "invalid_token")
    assert_problem(bearer(renewed["access"]).get("/api/v1/users/me"), 401, "not_authenticated")
    assert_problem(bearer(phone["access"]).get("/api/v1/cart"), 401, "not_authenticated")
    # and the owner is told, once
    (alert,) = mail.outbox
    assert alert.to == ["ada@example.com"]
    assert "Hello Ada" in alert.body
    # and the laptop's sign-in carries on after one refresh
    assert_problem(bearer(laptop["access"]).get("/api/v1/users/me"), 401, "not_authenticated")
    laptop_again = refresh(laptop["refresh"])
    assert laptop_again.status_code == 200, laptop_again.content
    assert bearer(laptop_again.json()["access"]).get("/api/v1/users/me").status_code == 200
    # and the owner signs in again
    assert bearer(sign_in("ada@example.com")["access"]).get("/api/v1/users/me").status_code == 200


def test_the_thief_rotating_first_is_ended_when_the_owner_comes_back(make_user, no_grace,
                                                                    django_capture_on_commit_callbacks):
    make_user(email="ada@example.com")
    owner = sign_in("ada@example.com")
    thief = refresh(owner["refresh"]).json()  # the copy was used before the owner's next refresh

    with django_capture_on_commit_callbacks(execute=True):
        assert_problem(refresh(owner["refresh"]), 401, "invalid_token")

    assert_problem(refresh(thief["refresh"]), 401, "invalid_token")
    assert_problem(bearer(thief["access"]).get("/api/v1/users/me"), 401, "not_authenticated")
    assert len(mail.outbox) == 1


def test_two_tabs_refreshing_one_token_at_once_do_not_end_the_sign_in(make_user, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 2
    make_user(email="ada@example.com")
    tokens = sign_in("ada@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        first = refresh(tokens["refresh"])
        second = refresh(tokens["refresh"])  # within the grace

    assert first.status_code == 200
    assert_problem(second, 401, "invalid_token")
    assert bearer(first.json()["access"]).get("/api/v1/users/me").status_code == 200
    assert refresh(first.json()["refresh"]).status_code == 200
    assert mail.outbox == []


def test_logout_ends_every_token_of_the_sign_in(make_user):
    make_user(email="ada@example.com")
    tokens = sign_in("ada@example.com")
    renewed = refresh(tokens["refresh"]).json()

    logout = bearer(renewed["access"]).post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

    assert logout.status_code == 204, logout.content
    assert_problem(refresh(renewed["refresh"]), 401, "invalid_token")
    assert mail.outbox == []
