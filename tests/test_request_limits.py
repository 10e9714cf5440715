"""What a client sends can be too big or too deep: every JSON endpoint answers 413 or 400 problem details, before any
view runs, anonymously or not, and nothing changes. Never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.gateway.tests.problems import assert_problem
from ecommerce.api.parsers import MAX_JSON_DEPTH, nesting_depth
from ecommerce.contracts.users import users_service
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db

ANONYMOUS = [("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/register"), ("post", "/api/v1/auth/refresh"),
             ("post", "/api/v1/auth/password/reset"), ("post", "/api/v1/auth/password/reset/confirm"),
             ("post", "/api/v1/auth/verify-email")]
SIGNED_IN = [(Role.CUSTOMER, "post", "/api/v1/cart/items"), (Role.CUSTOMER, "patch", "/api/v1/users/me"),
             (Role.CUSTOMER, "post", "/api/v1/users/me/addresses"), (Role.CATALOG_STAFF, "post", "/api/v1/products"),
             (Role.CATALOG_STAFF, "post", "/api/v1/categories"), (Role.ADMIN, "patch", "/api/v1/users/1")]
DEEP = b"[" * 100_000


def nested(levels: int) -> object:
    """A string inside ``levels - 1`` arrays: as the value of a body's field, the body nests ``levels`` deep."""
    value: object = "leaf"
    for _ in range(levels - 1):
        value = [value]
    return value


def too_big(settings) -> bytes:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return json.dumps({"email": "big@example.com", "password": padding, "name": padding}).encode()


def send(client: APIClient, method: str, path: str, body: bytes):
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
def test_deeply_nested_json_is_400_for_anyone(api_client, method, path) -> None:
    body = assert_problem(send(api_client, method, path, DEEP), 400, "parse_error")

    assert "nested deeper" in body["detail"]


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
def test_a_body_over_the_upload_limit_is_413_for_anyone(api_client, settings, method, path) -> None:
    assert_problem(send(api_client, method, path, too_big(settings)), 413, "payload_too_large")

    assert users_service.user_list(search="big@example.com").count == 0


@pytest.mark.parametrize(("role", "method", "path"), SIGNED_IN)
def test_signed_in_endpoints_refuse_them_the_same_way(client_for, settings, role, method, path) -> None:
    client = client_for(role)

    assert_problem(send(client, method, path, DEEP), 400, "parse_error")
    assert_problem(send(client, method, path, too_big(settings)), 413, "payload_too_large")
    assert_problem(send(client, method, path, json.dumps({"name": nested(MAX_JSON_DEPTH + 1)}).encode()),
                   400, "parse_error")


def test_just_past_the_depth_limit_is_400_and_at_it_the_body_is_read(api_client, make_user) -> None:
    make_user(email="ada@example.com")
    at_limit = {"email": "ada@example.com", "password": "wrong", "extra": nested(MAX_JSON_DEPTH)}
    past_limit = {**at_limit, "extra": nested(MAX_JSON_DEPTH + 1)}

    assert_problem(api_client.post("/api/v1/auth/login", at_limit, format="json"), 401, "invalid_credentials")
    assert_problem(api_client.post("/api/v1/auth/login", past_limit, format="json"), 400, "parse_error")


def test_a_body_over_the_limit_inside_the_admin_is_413_as_the_admins_html_page(settings) -> None:
    response = Client().post("/admin/login/", data=b"username=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
                             content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Request too large" in page
    assert "Shop admin" in page


def test_a_body_over_the_limit_outside_the_api_and_the_admin_is_413_problem_details(rf) -> None:
    from django.core.exceptions import RequestDataTooBig

    from ecommerce.api.problems import bad_request_view

    answer = bad_request_view(rf.post("/healthz"), RequestDataTooBig("too big"))

    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("application/problem+json")
    assert json.loads(answer.content)["code"] == "payload_too_large"


def test_nesting_depth_counts_objects_and_arrays_without_recursion() -> None:
    assert nesting_depth("scalar") == 0
    assert nesting_depth({"a": [1, {"b": []}]}) == 4
    assert nesting_depth(nested(50_000), stop_above=10) == 11
