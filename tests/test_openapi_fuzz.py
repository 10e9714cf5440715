"""The OpenAPI document against the code, both ways: Schemathesis generates requests from the served document, valid
and invalid, sends them to the app in process and runs every one of its checks (no server error, status codes,
content types, headers and bodies as documented, valid data accepted, invalid data rejected, auth not ignored ...),
in every role: a customer and an admin (who may call every staff endpoint) on every operation, the catalog staff
and the order staff on the operations of their trade.

A few operations refuse well-formed data for a reason no schema can state: a secret that is wrong (a current
password, a mailed token, a provider's signature), a password on Django's list of common ones, an address already
registered, a sku or slug already in use, a reference to a row that does not exist, an idempotency key already used
for another body. ``SEMANTIC_REJECTIONS`` names each, with the one status
and the fields such an answer may name; any other rejection of valid data still fails. Examples are bounded (and
derandomised, so CI is repeatable) to keep the run to a couple of minutes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.openapi.checks import AuthScenario, IgnoredAuth
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection, positive_data_acceptance

from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.users import users_service
from ecommerce.roles import Role

MAX_EXAMPLES = 4
THROTTLE_SETTINGS = (
    "ECOMMERCE_THROTTLE_ANON", "ECOMMERCE_THROTTLE_USER", "ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP",
    "ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP", "ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT",
    "ECOMMERCE_THROTTLE_REGISTER_IP", "ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT", "ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP",
    "ECOMMERCE_THROTTLE_PASSWORD_RESET_IP", "ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT",
)
# Uniqueness, references, the discount window (ends after it starts; a percent up to 100), and Django's URL rules
# for an image, which are narrower than the document's "uri" format.
PRODUCT_STATE_FIELDS = {"sku", "slug", "category", "discount_value", "discount_ends_at", "image_url"}
# operation -> the answers it may give to well-formed data: (status, problem codes, fields a validation error names)
Rejection = tuple[int, set[str], set[str]]
IDEMPOTENCY_CONFLICT: Rejection = (422, {"idempotency_conflict"}, set())
SEMANTIC_REJECTIONS: dict[str, list[Rejection]] = {
    "POST /api/v1/auth/register": [(400, {"validation_error"}, {"email", "password"})],  # taken; common password
    "POST /api/v1/auth/password/change": [(400, {"validation_error"}, {"old_password", "new_password"})],
    "POST /api/v1/auth/password/reset/confirm": [(400, {"validation_error"}, {"uid", "token", "new_password"})],
    "POST /api/v1/auth/verify-email": [(400, {"validation_error"}, {"token"})],
    "GET /api/v1/products": [(400, {"validation_error"}, {"min_price"})],  # min_price above max_price
    "POST /api/v1/categories": [(400, {"validation_error"}, {"slug", "parent"})],
    "PATCH /api/v1/categories/{category_id}": [(400, {"validation_error"}, {"slug", "parent"})],
    "POST /api/v1/products": [(400, {"validation_error"}, PRODUCT_STATE_FIELDS)],
    "PUT /api/v1/products/{product_id}": [(400, {"validation_error"}, PRODUCT_STATE_FIELDS)],
    "PATCH /api/v1/products/{product_id}": [(400, {"validation_error"}, PRODUCT_STATE_FIELDS)],
    # A code that is taken, a percent over 100, a window that ends before it starts.
    "POST /api/v1/vouchers": [(400, {"validation_error"}, {"code", "value", "ends_at"})],
    "PATCH /api/v1/vouchers/{voucher_id}": [(400, {"validation_error"}, {"code", "value", "ends_at"})],
    "POST /api/v1/cart/voucher": [(400, {"voucher_invalid"}, {"code"})],  # no such voucher, or not usable now
    "POST /api/v1/payments/webhooks/{provider}": [(400, {"invalid_signature"}, set())],
    "POST /api/v1/orders": [IDEMPOTENCY_CONFLICT, (400, {"validation_error"}, {"cart"})],  # the cart is empty
    "POST /api/v1/orders/{order_id}/payments": [IDEMPOTENCY_CONFLICT],
    # carrier and tracking_number go together, and with "shipped" only (not stated as a dependency yet).
    "POST /api/v1/orders/{order_id}/status": [(400, {"validation_error"}, {"carrier", "tracking_number"})],
}
# A staff role is fuzzed on the operations of its trade; elsewhere it is treated as a customer, who is fuzzed on every
# operation (as is an admin), so the run stays bounded.
STAFF_TAGS = {Role.CATALOG_STAFF: ["catalog", "vouchers"], Role.ORDER_STAFF: ["orders", "payments"]}

# The document is the one the app serves; pytest-django has set Django up before test modules are imported.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _in_one_transaction(db: None, settings: Any) -> Iterator[None]:
    """The WSGI application runs inside this test's transaction: like Django's test client, it must not close the
    database connection at the end of each request. The fuzzer is no client a limit is for (tests/security/ proves
    the limits), so they are set out of its reach."""
    for name in THROTTLE_SETTINGS:
        setattr(settings, name, "100000/min")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _bearer(make_user: Any, role: Role) -> dict[str, str]:
    user = make_user(role)
    access = users_service.auth_login(email=user.email, password=DEFAULT_PASSWORD).access
    return {"Authorization": f"Bearer {access}"}


def _operation(case: schemathesis.Case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _is_semantic_rejection(case: schemathesis.Case, response: Any) -> bool:
    for status, codes, fields in SEMANTIC_REJECTIONS.get(_operation(case), []):
        if response.status_code == status:
            body = response.json()
            if body.get("code") in codes and set(body.get("errors", {})) <= fields:
                return True
    return False


@schemathesis.check
def valid_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Schemathesis's own ``positive_data_acceptance``, except for the answers ``SEMANTIC_REJECTIONS`` names."""
    if _is_semantic_rejection(case, response):
        return True
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def invalid_data_rejected(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Schemathesis's own ``negative_data_rejection``, except for a query made only of parameters the operation does
    not declare: the API ignores unknown query parameters, as the README says, whatever their names or values."""
    declared = {parameter.name for parameter in case.operation.query}
    sent = set(case.query or {})
    if case.body is None and sent and not sent & declared:
        return True
    return negative_data_rejection(ctx, response, case)


CART_TOKEN_HEADER = "X-Cart-Token"


def _has_cart_token_scheme(case: schemathesis.Case) -> bool:
    return {"cartToken": []} in case.operation.definition.raw.get("security", [])


@schemathesis.check
def auth_enforced(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Schemathesis's own ``ignored_auth``, with one answer it cannot know: on the cart operations a guest's
    ``X-Cart-Token`` names a cart, and one that names none (unknown or expired) is 404 ``not_found``, as the scheme
    says, not 401. Only that is let through, proved here: with a bad bearer token alone the operation is 401, with an
    unknown cart token alone it is that 404."""
    try:
        return ignored_auth(ctx, response, case)
    except IgnoredAuth as failure:
        if failure.scenario != AuthScenario.INVALID_AUTH or not _has_cart_token_scheme(case):
            raise
        bare = {name: value for name, value in case.headers.items()
                if name.lower() not in {"authorization", CART_TOKEN_HEADER.lower()}}
        bad_bearer = case.derive(headers={**bare, "Authorization": "Bearer not-a-token"}).call()
        unknown_cart = case.derive(headers={**bare, CART_TOKEN_HEADER: "no-such-cart-token"}).call()
        if bad_bearer.status_code != 401 or (unknown_cart.status_code, unknown_cart.json().get("code")) != (
                404, "not_found"):
            raise
        return True


FUZZ = hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                           suppress_health_check=list(HealthCheck))


def _call_and_validate(case: schemathesis.Case, headers: dict[str, str]) -> None:
    case.call_and_validate(headers=headers,
                           excluded_checks=[positive_data_acceptance, negative_data_rejection, ignored_auth],
                           additional_checks=[valid_data_accepted, invalid_data_rejected, auth_enforced])


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema_as_a_customer(case: schemathesis.Case, make_user: Any) -> None:
    _call_and_validate(case, _bearer(make_user, Role.CUSTOMER))


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema_as_an_admin(case: schemathesis.Case, make_user: Any) -> None:
    _call_and_validate(case, _bearer(make_user, Role.ADMIN))


@schema.include(tag=STAFF_TAGS[Role.CATALOG_STAFF]).parametrize()
@FUZZ
def test_api_conforms_to_its_schema_as_catalog_staff(case: schemathesis.Case, make_user: Any) -> None:
    _call_and_validate(case, _bearer(make_user, Role.CATALOG_STAFF))


@schema.include(tag=STAFF_TAGS[Role.ORDER_STAFF]).parametrize()
@FUZZ
def test_api_conforms_to_its_schema_as_order_staff(case: schemathesis.Case, make_user: Any) -> None:
    _call_and_validate(case, _bearer(make_user, Role.ORDER_STAFF))
