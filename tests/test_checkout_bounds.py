"""What one checkout costs, held by tests: at most six contract calls, none made while another is running (no context
calls another from inside its own contract implementation), in-process and through the loopback RPC path; and, in the
monolith, a number of SQL statements that does not grow with the number of lines."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.gateway.composition import cart as cart_composition
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import CheckoutResult, ShippingAddressInput, VoucherInput, VoucherKind, orders_service
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import AddressInput, UserDTO, users_service
from tests.contract_spy import spying_on_contracts

pytestmark = pytest.mark.django_db

MAX_CONTRACT_CALLS = 6
# Every statement of one checkout in the monolith, savepoints included (a test runs inside a transaction), with the
# default open-order cap. Each is a round trip, and a few run while checkouts of the same products queue: lower it
# when a change saves one, never raise it without a reason.
MAX_CHECKOUT_STATEMENTS = 36


def shopper_with_cart(make_user: Callable[..., UserDTO], lines: int, *, tag: str) -> tuple[int, int]:
    user = make_user()
    address = users_service.address_create(user_id=user.id, address=AddressInput(
        full_name="Bound Tester", street="6 Calls Way", city="Boundary", zip_code="10001", country="US"))
    for number in range(lines):
        product = products_service.product_create(product=ProductInput(
            sku=f"BOUND-{tag}-{number}", name=f"Bounded {number}", price=Decimal("3.10"), stock=50))
        cart_composition.cart_item_add(user_id=user.id, product_id=product.id, quantity=2)
    return user.id, address.id


def checkout(user_id: int, address_id: int) -> CheckoutResult:
    return orders_service.order_checkout(user_id=user_id, address_id=address_id, idempotency_key=uuid.uuid4().hex,
                                         request_fingerprint="bounds")


@pytest.mark.parametrize("lines", [1, 10])
def test_a_checkout_makes_at_most_six_contract_calls_and_none_nested(rpc_mode, make_user, lines):
    # given a cart of one line, or of ten
    user_id, address_id = shopper_with_cart(make_user, lines, tag=f"{rpc_mode}-{lines}")

    # when the user checks out, every contract call watched
    with spying_on_contracts() as spy:
        result = checkout(user_id, address_id)

    # then the saga made its calls one after the other, each from the orders context itself
    assert len(result.order.items) == lines
    [entry, *saga] = spy.calls
    assert entry.name == "orders.order_checkout"
    assert [call.name for call in saga] == [
        "users.checkout_recipient", "carts.cart_claim", "products.product_lines_price", "products.stock_reserve",
        "products.stock_reservation_confirm", "carts.cart_claim_complete",
    ]
    assert len(saga) <= MAX_CONTRACT_CALLS
    assert all(call.depth == 1 for call in saga), [(call.name, call.depth) for call in saga]


def test_a_checkout_runs_the_same_bounded_sql_for_one_line_as_for_ten(make_user):
    # given two carts in the monolith, one of one line and one of ten
    small = shopper_with_cart(make_user, 1, tag="small")
    large = shopper_with_cart(make_user, 10, tag="large")

    # when each is checked out (the whole saga: key, address, claim, pricing, reservation, order, follow-ups)
    counts: list[int] = []
    results: list[Any] = []
    for user_id, address_id in (small, large):
        with CaptureQueriesContext(connection) as queries:
            results.append(checkout(user_id, address_id))
        counts.append(len(queries))

    # then both ran the same number of statements, and no more than the bound
    assert [len(result.order.items) for result in results] == [1, 10]
    assert counts[0] == counts[1], counts
    assert counts[0] <= MAX_CHECKOUT_STATEMENTS, counts


def test_a_checkout_with_an_inline_address_a_voucher_and_an_expected_total_makes_the_same_six_calls(rpc_mode,
                                                                                                   make_user):
    # given a cart with a voucher (vouchers are the orders context's own: redeeming one costs no contract call)
    user_id, _ = shopper_with_cart(make_user, 2, tag=f"{rpc_mode}-extras")
    orders_service.voucher_create(voucher=VoucherInput(code="BOUNDS", kind=VoucherKind.FIXED, value=Decimal("1")))
    carts_service.cart_voucher_set(user_id=user_id, code="BOUNDS")

    # when the user checks out with an inline address and the total they saw
    with spying_on_contracts() as spy:
        result = orders_service.order_checkout(
            user_id=user_id, idempotency_key=uuid.uuid4().hex, request_fingerprint="bounds",
            shipping_address=ShippingAddressInput(full_name="In Line", street="1 Bound St", city="Edge",
                                                  zip_code="10001", country="US"),
            expected_total=Decimal("11.40"))

    # then the address check takes the saved address's place and nothing else is added
    assert result.order.discount == Decimal("1.00")
    [entry, *saga] = spy.calls
    assert entry.name == "orders.order_checkout"
    assert [call.name for call in saga] == [
        "users.checkout_recipient", "carts.cart_claim", "products.product_lines_price", "products.stock_reserve",
        "products.stock_reservation_confirm", "carts.cart_claim_complete",
    ]
    assert all(call.depth == 1 for call in saga)
