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


# --- problem details hold with DEBUG on, as `make run` serves ---------------------------------------------------

def assert_problem_answer(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json", response.content[:200]
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/products/abc", "/api/v1/orders/not-a-uuid/cancel"])
def test_with_debug_on_an_unknown_api_address_is_a_problem_details_404(settings, path: str) -> None:
    settings.DEBUG = True

    body = assert_problem_answer(Client().get(path), 404, "not_found")

    assert "Traceback" not in body["detail"]


@pytest.mark.django_db
def test_with_debug_on_a_wrong_method_is_a_problem_details_405(settings, api_client) -> None:
    settings.DEBUG = True

    response = api_client.delete("/api/v1/auth/login")

    assert_problem_answer(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


@pytest.mark.django_db
def test_with_debug_on_a_request_refused_before_any_view_is_a_problem_details_400(settings) -> None:
    settings.DEBUG = True

    response = Client().get("/api/v1/categories", headers={"Host": "evil.example"})

    body = assert_problem_answer(response, 400, "bad_request")
    assert "evil.example" not in response.content.decode()
    assert body["detail"] == "The request could not be understood."
    assert response["X-Content-Type-Options"] == "nosniff"  # the security headers survive the replacement


@pytest.mark.django_db
def test_with_debug_on_a_failure_outside_the_api_views_is_a_generic_500_problem(settings, monkeypatch) -> None:
    from django.middleware.common import CommonMiddleware

    def explode(self, request):
        raise RuntimeError("SELECT secret FROM internal_host_db")

    settings.DEBUG = True
    monkeypatch.setattr(CommonMiddleware, "process_request", explode)

    response = Client(raise_request_exception=False).get("/api/v1/categories")

    assert_problem_answer(response, 500, "server_error")
    assert "secret" not in response.content.decode()


@pytest.mark.django_db
def test_with_debug_on_pages_outside_the_api_keep_djangos_debug_page(settings) -> None:
    settings.DEBUG = True

    response = Client().get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_database_that_gives_up_is_a_503_problem_with_retry_after(api_client, monkeypatch) -> None:
    from django.db import OperationalError

    from ecommerce.contracts.products import products_service

    def locked(**_: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(products_service, "_target", type("Locked", (), {"category_list": staticmethod(locked)})())

    response = api_client.get("/api/v1/categories")

    body = assert_problem_answer(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"
    assert "locked" not in body["detail"]


# --- every error text names what is wrong -------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_invalid_body_names_each_field_and_what_is_wrong_with_it(api_client) -> None:
    response = api_client.post("/api/v1/auth/register", {"email": "not-an-email", "name": "Ann"}, format="json")

    body = assert_problem_answer(response, 400, "validation_error")
    assert body["detail"] == ("Invalid input: email: Enter a valid email address. "
                              "password: This field is required.")
    assert set(body["errors"]) == {"email", "password"}


@pytest.mark.django_db
def test_an_invalid_query_parameter_is_named(api_client) -> None:
    response = api_client.get("/api/v1/products", {"page": "0"})

    body = assert_problem_answer(response, 400, "validation_error")
    assert body["detail"] == "Invalid input: page: Ensure this value is greater than or equal to 1."


@pytest.mark.django_db
def test_a_domain_rule_broken_on_a_field_is_named_too(api_client, make_user) -> None:
    make_user(email="ann@example.com")

    response = api_client.post("/api/v1/auth/register", {"email": "ANN@example.com", "password": "a-Long-pass-42x",
                                                         "name": "Ann"}, format="json")

    body = assert_problem_answer(response, 400, "validation_error")
    assert body["detail"].startswith("Invalid input: email: ")
    assert body["detail"] != "Invalid input: email: "
