"""Finding 10 of the security review: the schema was looser than the code. Each rule the code enforces is stated by
the OpenAPI document, and a body of another JSON type is refused rather than coerced (``0`` into the name "0",
``"0"`` into false)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from apps.gateway import api as gateway_api
from apps.gateway.api.validation import COUNTRY_CODES, StrictInputSerializer
from apps.gateway.tests.problems import assert_problem
from ecommerce.contracts.carts import MAX_LINE_QUANTITY
from tests.security.inventory import openapi_document

pytestmark = pytest.mark.django_db

ADDRESS = {"full_name": "Ann Example", "street": "1 Main St", "city": "Springfield", "zip_code": "62701",
           "country": "US"}


def component(name: str) -> dict:
    return openapi_document()["components"]["schemas"][name]


def test_the_document_states_the_country_codes_password_rules_and_cart_quantities() -> None:
    country = openapi_document()["components"]["schemas"]["CountryEnum"]
    register = component("RegisterInputRequest")["properties"]["password"]
    add = component("CartItemAddInputRequest")["properties"]["quantity"]
    patch = component("CartItemQuantityInputRequest")

    assert country["enum"] == COUNTRY_CODES
    assert "GB" in country["enum"]
    assert "XX" not in country["enum"]
    assert register["minLength"] == 8
    assert register["pattern"]
    assert (add["minimum"], add["maximum"]) == (1, MAX_LINE_QUANTITY)
    assert patch["required"] == ["quantity"]
    assert (patch["properties"]["quantity"]["minimum"], patch["properties"]["quantity"]["maximum"]) == (
        0, MAX_LINE_QUANTITY)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/users/me", {"name": 0}, "name"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "is_default": "0"}, "is_default"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "is_default": 0}, "is_default"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "zip_code": 62701}, "zip_code"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "country": "us"}, "country"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "country": "XX"}, "country"),
    ("/api/v1/users/me/addresses", {**ADDRESS, "street": "   "}, "street"),
    ("/api/v1/cart/items", {"product_id": "1", "quantity": 1}, "product_id"),
    ("/api/v1/cart/items", {"product_id": 1, "quantity": True}, "quantity"),
    ("/api/v1/cart/items", {"product_id": 1, "quantity": 0}, "quantity"),
    ("/api/v1/cart/items", {"product_id": 1, "quantity": MAX_LINE_QUANTITY + 1}, "quantity"),
    ("/api/v1/cart/items/1", {}, "quantity"),
])
def test_a_value_the_document_does_not_allow_is_400_naming_the_field(customer_client, path, body, field) -> None:
    method = customer_client.patch if path in {"/api/v1/users/me", "/api/v1/cart/items/1"} else customer_client.post

    body = assert_problem(method(path, body, format="json"), 400, "validation_error")

    assert list(body["errors"]) == [field]


def test_a_refused_body_changes_nothing(customer_client) -> None:
    customer_client.patch("/api/v1/users/me", {"name": False}, format="json")

    assert customer_client.get("/api/v1/users/me").json()["name"] == "Test User"


@pytest.mark.parametrize("query", ["status=", "status=PAID"])
def test_an_empty_or_unknown_order_filter_is_400(customer_client, query) -> None:
    assert_problem(customer_client.get(f"/api/v1/orders?{query}"), 400, "validation_error")


@pytest.mark.parametrize("value", ["null", "1", "yes", ""])
def test_in_stock_is_true_or_false_only(api_client, value) -> None:
    assert_problem(api_client.get(f"/api/v1/products?in_stock={value}"), 400, "validation_error")


@pytest.mark.parametrize("body", [{"email": "ann@example.com", "password": "12345678", "name": "Ann"},
                                  {"email": "ann@example.com", "password": "short1", "name": "Ann"}])
def test_a_password_the_document_refuses_is_refused(api_client, body) -> None:
    assert list(assert_problem(api_client.post("/api/v1/auth/register", body, format="json"), 400,
                               "validation_error")["errors"]) == ["password"]


def _input_serializers() -> list[type]:
    found = []
    for module_info in pkgutil.iter_modules(gateway_api.__path__):
        if not module_info.ispkg:
            module = importlib.import_module(f"{gateway_api.__name__}.{module_info.name}")
            found += [value for name, value in vars(module).items()
                      if name.endswith("InputSerializer") and isinstance(value, type)]
    return found


def test_every_body_serializer_of_the_api_is_strict() -> None:
    """A new ``<Thing>InputSerializer`` must derive from ``StrictInputSerializer`` (apps/gateway/api/validation.py)."""
    serializers = _input_serializers()

    assert len(serializers) >= 15
    assert [cls.__name__ for cls in serializers if not issubclass(cls, StrictInputSerializer)] == []
