"""Conventions every public answer follows: problem details, request ids, no internals on failures."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.roles import Role
from ecommerce.throttling import parse_rate


@pytest.mark.django_db
def test_an_unknown_address_is_a_problem_details_404() -> None:
    response = Client().get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_found"
    assert {"type", "title", "status", "detail", "code"} <= set(body)


@pytest.mark.django_db
def test_a_wrong_method_is_a_problem_details_405(api_client) -> None:
    response = api_client.delete("/api/v1/auth/login")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_malformed_json_is_a_400_problem(api_client) -> None:
    response = api_client.post("/api/v1/auth/login", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_the_callers() -> None:
    mine = "client-chosen-id-123"
    echoed = Client().get("/healthz", headers={"X-Request-ID": mine})
    fresh = Client().get("/healthz")
    poisoned = Client().get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})

    assert echoed["X-Request-ID"] == mine
    uuid.UUID(fresh["X-Request-ID"])
    uuid.UUID(poisoned["X-Request-ID"])


@pytest.mark.django_db
def test_an_unhandled_error_is_a_generic_500_problem(api_client, monkeypatch) -> None:
    from ecommerce.contracts.products import products_service

    def explode(**_: object) -> None:
        raise RuntimeError("SELECT secret FROM internal_host_db")

    monkeypatch.setattr(products_service, "_target", type("Broken", (), {"category_list": staticmethod(explode)})())

    response = api_client.get("/api/v1/categories")

    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error"
    assert "secret" not in response.content.decode()


@pytest.mark.django_db
def test_anonymous_throttle_answers_429_with_retry_after(api_client, settings) -> None:
    settings.ECOMMERCE_THROTTLE_ANON = "2/min"

    answers = [api_client.get("/api/v1/categories").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    throttled = api_client.get("/api/v1/categories")
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("300/min", (300, 60)), ("10/15min", (10, 900)), ("5/s", (5, 1)), ("100/2hour", (100, 7200)),
     ("7/day", (7, 86400))],
)
def test_rates_read_multi_unit_periods(rate: str, expected: tuple[int, int]) -> None:
    assert parse_rate(rate) == expected


def test_unreadable_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="Unreadable rate"):
        parse_rate("lots/forever")


@pytest.mark.django_db
@pytest.mark.parametrize("forged", [{"HTTP_HOST": "evil.example"}, {"HTTP_X_FORWARDED_HOST": "evil.example"},
                                    {"HTTP_HOST": "users.shop.svc.cluster.local"}])
def test_pagination_links_never_repeat_the_host_a_client_sends(client_for, settings, forged) -> None:
    settings.ALLOWED_HOSTS = ["*"]  # even where an operator lets every Host through
    settings.USE_X_FORWARDED_HOST = True
    client = client_for(Role.CUSTOMER)
    for index in range(3):
        users_service.address_create(user_id=client.user.id, address=AddressInput(
            full_name=f"Ann {index}", street="1 Main St", city="Springfield", zip_code="62701", country="US"))
    second_page = "/api/v1/users/me/addresses?page=2&page_size=1"

    settings.ECOMMERCE_PUBLIC_BASE_URL = ""
    relative = client.get(second_page, **forged).json()
    settings.ECOMMERCE_PUBLIC_BASE_URL = "https://shop.example.com"
    configured = client.get(second_page, **forged).json()

    assert (relative["next"], relative["previous"]) == (
        "/api/v1/users/me/addresses?page=3&page_size=1", "/api/v1/users/me/addresses?page_size=1")
    assert (configured["next"], configured["previous"]) == (
        "https://shop.example.com/api/v1/users/me/addresses?page=3&page_size=1",
        "https://shop.example.com/api/v1/users/me/addresses?page_size=1")
