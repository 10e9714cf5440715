"""API6:2023 Unrestricted access to sensitive business flows. The flows a script would abuse, each held by its own
limit through the public API:

- creating accounts, sending e-mails (verification links, reset links) and guessing passwords: ``FLOWS`` below has
  one entry per limit, and a test fails while some ``ECOMMERCE_THROTTLE_*`` setting has none, so a limit added
  tomorrow is proved here too. Each is walked the way an abuser would go round it: from one client with new
  accounts (a per-client limit), or at one account from new addresses (a per-account limit);
- starting guest carts, which costs a row each: the anonymous limit (every other operation's limits: API4);
- holding stock with unpaid orders: the open-order cap, per user;
- a voucher's per-customer limit, which only its own customer reaches.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core import mail
from rest_framework.test import APIClient

from apps.gateway.composition import cart as cart_composition
from apps.gateway.tests.problems import assert_problem
from ecommerce.contracts.orders import VoucherInput, VoucherKind, orders_service
from ecommerce.contracts.users import AddressInput, UserDTO, users_service
from ecommerce.roles import Role
from tests.security.endpoints import ENDPOINTS, STRONG_PASSWORD, V1
from tests.security.world import ANONYMOUS, World

pytestmark = pytest.mark.django_db

PER_CLIENT, PER_ACCOUNT, PER_ACCOUNT_AND_CLIENT = "client", "account", "account and client"
LIMIT = 2
THROTTLE_SETTINGS = sorted(name for name in dir(django_settings) if name.startswith("ECOMMERCE_THROTTLE_"))
# Proved on every operation by API4's test_every_operation_is_throttled; the anonymous one also below, on guest carts.
EVERY_OPERATION_LIMITS = {"ECOMMERCE_THROTTLE_USER"}


@dataclass(frozen=True)
class Flow:
    operation: str
    limit: str  # the setting that holds it
    per: str
    # Attempt number n, as the abuser makes it: (client, body). ``per`` says what stays the same between attempts.
    attempt: Callable[[World, int, str], tuple[APIClient, dict | None]]
    # The answer past the limit; None: the same answer as before it (a reset request tells nothing), see ``effect``.
    refused_status: int | None = 429
    # What each attempt that got through did, counted after all of them.
    effect: Callable[[], int] | None = None


def _client_address(n: int, per: str) -> str:
    """Where attempt n comes from: a new address each time when the limit is per account, else always the same."""
    return f"10.6.0.{n + 1}" if per == PER_ACCOUNT else "10.6.0.1"


def _account(world: World, n: int, per: str) -> UserDTO:
    """Alice every time when the limit is (also) per account; otherwise another real account each time."""
    return world.alice if per in {PER_ACCOUNT, PER_ACCOUNT_AND_CLIENT} else world.users()[n]


def _register(world: World, n: int, per: str) -> tuple[APIClient, dict | None]:
    return world.client(ANONYMOUS), {"email": f"flow-{uuid.uuid4().hex[:10]}@example.com",
                                     "password": STRONG_PASSWORD, "name": "Flow"}


def _wrong_password(world: World, n: int, per: str) -> tuple[APIClient, dict | None]:
    return world.client(ANONYMOUS), {"email": _account(world, n, per).email, "password": "not-the-password"}


def _reset(world: World, n: int, per: str) -> tuple[APIClient, dict | None]:
    return world.client(ANONYMOUS), {"email": _account(world, n, per).email}


def _resend(world: World, n: int, per: str) -> tuple[APIClient, dict | None]:
    return world.client_of(_account(world, n, per)), None


def _guest_cart(world: World, n: int, per: str) -> tuple[APIClient, dict | None]:
    return world.client(ANONYMOUS), None


def _mails() -> int:
    return len(mail.outbox)


FLOWS = [
    Flow("POST /api/v1/auth/register", "ECOMMERCE_THROTTLE_REGISTER_IP", PER_CLIENT, _register),
    Flow("POST /api/v1/auth/login", "ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP", PER_CLIENT, _wrong_password),
    Flow("POST /api/v1/auth/login", "ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT", PER_ACCOUNT, _wrong_password),
    Flow("POST /api/v1/auth/login", "ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP", PER_ACCOUNT_AND_CLIENT,
         _wrong_password),
    Flow("POST /api/v1/auth/password/reset", "ECOMMERCE_THROTTLE_PASSWORD_RESET_IP", PER_CLIENT, _reset,
         refused_status=None, effect=_mails),
    Flow("POST /api/v1/auth/password/reset", "ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT", PER_ACCOUNT, _reset,
         refused_status=None, effect=_mails),
    Flow("POST /api/v1/auth/verify-email/resend", "ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP", PER_CLIENT, _resend,
         effect=_mails),
    Flow("POST /api/v1/auth/verify-email/resend", "ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT", PER_ACCOUNT, _resend,
         effect=_mails),
    Flow("POST /api/v1/carts", "ECOMMERCE_THROTTLE_ANON", PER_CLIENT, _guest_cart),
]


def test_every_limit_the_shop_has_is_proved_here_or_on_every_operation() -> None:
    assert set(THROTTLE_SETTINGS) == {flow.limit for flow in FLOWS} | EVERY_OPERATION_LIMITS
    assert {flow.operation for flow in FLOWS} <= set(ENDPOINTS)


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: f"{flow.operation} per {flow.per} ({flow.limit})")
def test_a_sensitive_flow_stops_at_its_limit(world, flow, settings) -> None:
    for name in THROTTLE_SETTINGS:  # only the limit under test is within reach
        setattr(settings, name, "100000/min")
    setattr(settings, flow.limit, f"{LIMIT}/hour")
    mail.outbox.clear()

    answers = []
    for n in range(LIMIT + 1):
        client, body = flow.attempt(world, n, flow.per)
        answers.append(client.post(flow.operation.split(" ", 1)[1], body, format="json",
                                   REMOTE_ADDR=_client_address(n, flow.per)))

    within, past = answers[:LIMIT], answers[LIMIT]
    assert all(answer.status_code < 429 for answer in within), [answer.content for answer in within]
    if flow.refused_status is None:
        assert (past.status_code, past.json()) == (within[0].status_code, within[0].json())
    else:
        body = assert_problem(past, flow.refused_status, "throttled")
        assert int(past["Retry-After"]) >= 1, body
    if flow.effect is not None:
        assert flow.effect() == LIMIT


def _checkout(client: APIClient, address_id: int):
    return client.post(f"{V1}/orders", {"address_id": address_id}, format="json",
                       headers={"Idempotency-Key": uuid.uuid4().hex})


def _address_of(user_id: int) -> int:
    return users_service.address_create(user_id=user_id, address=AddressInput(
        full_name="Flow", street="3 Flow St", city="Springfield", zip_code="62701", country="US")).id


def test_unpaid_orders_cannot_hold_stock_past_the_cap_and_the_cap_is_per_user(world, settings) -> None:
    alice, bob = world.client("alice"), world.client(Role.CUSTOMER)
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = len(alice.get(f"{V1}/orders", {"status": "pending"}).json()[
        "results"])
    cart_before = alice.get(f"{V1}/cart").json()
    stock_before = alice.get(f"{V1}/products/{world.product_id}").json()["stock"]

    refused = _checkout(alice, world.address_id)

    assert_problem(refused, 409, "too_many_open_orders")
    assert alice.get(f"{V1}/cart").json() == cart_before
    assert alice.get(f"{V1}/products/{world.product_id}").json()["stock"] == stock_before
    cart_composition.cart_item_add(user_id=world.bob.id, product_id=world.product_id, quantity=1)
    assert _checkout(bob, _address_of(world.bob.id)).status_code == 201


def test_a_voucher_limited_per_customer_stops_its_customer_and_no_one_else(world, settings) -> None:
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 0  # no cap: the voucher's own limit is the one under test
    voucher = orders_service.voucher_create(voucher=VoucherInput(
        code=f"ONCE{uuid.uuid4().hex[:8].upper()}", kind=VoucherKind.FIXED, value=Decimal("1.00"),
        max_uses_per_customer=1))
    alice, bob = world.client("alice"), world.client(Role.CUSTOMER)
    assert alice.post(f"{V1}/cart/voucher", {"code": voucher.code}, format="json").status_code == 200
    assert _checkout(alice, world.address_id).status_code == 201

    cart_composition.cart_item_add(user_id=world.alice.id, product_id=world.product_id, quantity=1)
    again = alice.post(f"{V1}/cart/voucher", {"code": voucher.code}, format="json")

    assert assert_problem(again, 400, "voucher_invalid")["reason"] == "customer_limit"
    assert alice.get(f"{V1}/cart").json()["voucher"] is None
    cart_composition.cart_item_add(user_id=world.bob.id, product_id=world.product_id, quantity=1)
    assert bob.post(f"{V1}/cart/voucher", {"code": voucher.code}, format="json").status_code == 200
