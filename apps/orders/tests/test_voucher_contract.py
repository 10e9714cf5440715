"""The vouchers part of the orders contract, in-process and through the loopback RPC path: staff management with its
validation errors crossing the wire, quotes with every reason a voucher cannot be used, and a checkout that redeems
the cart's voucher (and the expected total and inline address it may carry) with the use given back on cancel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.orders.tests.conftest import fill_cart
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import (
    ShippingAddressInput,
    VoucherChanges,
    VoucherDTO,
    VoucherInput,
    VoucherKind,
    orders_service,
)
from ecommerce.errors import Conflict, NotFound, PriceChanged, ValidationFailed, VoucherInvalid

pytestmark = pytest.mark.django_db

TEN_PERCENT = VoucherInput(code="ten", kind=VoucherKind.PERCENT, value=Decimal("10"))
ADDRESS = ShippingAddressInput(full_name="Rpc Tester", street="1 Wire St", city="Oslo", zip_code="0150",
                               country="no")


def test_voucher_create_get_list_update_delete(rpc_mode):
    created = orders_service.voucher_create(voucher=TEN_PERCENT.model_copy(update={"min_subtotal": Decimal("20")}))

    assert isinstance(created, VoucherDTO)
    assert (created.code, created.value, created.min_subtotal, created.uses) == (
        "TEN", Decimal("10.00"), Decimal("20.00"), 0)
    assert orders_service.voucher_get(voucher_id=created.id) == created
    assert orders_service.voucher_list().results == [created]
    changed = orders_service.voucher_update(voucher_id=created.id,
                                            changes=VoucherChanges(min_subtotal=None, max_uses=3))
    assert (changed.min_subtotal, changed.max_uses, changed.value) == (None, 3, Decimal("10.00"))
    orders_service.voucher_delete(voucher_id=created.id)
    with pytest.raises(NotFound):
        orders_service.voucher_get(voucher_id=created.id)


def test_voucher_errors_cross_the_wire(rpc_mode):
    orders_service.voucher_create(voucher=TEN_PERCENT)

    with pytest.raises(ValidationFailed) as taken:
        orders_service.voucher_create(voucher=TEN_PERCENT)
    with pytest.raises(ValidationFailed) as window:
        orders_service.voucher_create(voucher=TEN_PERCENT.model_copy(update={
            "code": "WINDOW", "starts_at": datetime(2030, 1, 2, tzinfo=UTC), "ends_at": datetime(2030, 1, 1,
                                                                                               tzinfo=UTC)}))
    with pytest.raises(ValidationFailed) as null_value:
        orders_service.voucher_update(voucher_id=orders_service.voucher_list().results[0].id,
                                      changes=VoucherChanges(value=None))
    with pytest.raises(NotFound):
        orders_service.voucher_update(voucher_id=999_999, changes=VoucherChanges(max_uses=1))

    assert list(taken.value.errors) == ["code"]
    assert list(window.value.errors) == ["ends_at"]
    assert list(null_value.value.errors) == ["value"]


def test_voucher_quote_and_its_reasons(rpc_mode):
    orders_service.voucher_create(voucher=TEN_PERCENT.model_copy(update={"min_subtotal": Decimal("50")}))
    orders_service.voucher_create(voucher=VoucherInput(
        code="OLD", kind=VoucherKind.FIXED, value=Decimal("5"), ends_at=datetime.now(UTC) - timedelta(days=1)))

    quote = orders_service.voucher_quote(code="Ten", user_id=None, subtotal=Decimal("80.05"))

    assert (quote.code, quote.discount) == ("TEN", Decimal("8.01"))
    for code, subtotal, reason in (("TEN", "49.99", "below_minimum"), ("OLD", "80", "expired"),
                                   ("NONE", "80", "unknown")):
        with pytest.raises(VoucherInvalid) as invalid:
            orders_service.voucher_quote(code=code, user_id=None, subtotal=Decimal(subtotal))
        assert invalid.value.reason == reason


def test_a_checkout_redeems_the_carts_voucher_and_a_cancel_gives_it_back(rpc_mode, make_user, make_product):
    # given a cart of 30.00 with a 10 % voucher limited to one use
    user = make_user()
    product = make_product(price="30.00")
    fill_cart(user.id, (product, 1))
    voucher = orders_service.voucher_create(voucher=TEN_PERCENT.model_copy(update={"max_uses": 1}))
    carts_service.cart_voucher_set(user_id=user.id, code="TEN")

    # when the user checks out with an inline address and the total they saw, then cancels
    result = orders_service.order_checkout(user_id=user.id, shipping_address=ADDRESS, expected_total=Decimal("27"),
                                           idempotency_key=uuid.uuid4().hex, request_fingerprint="fp")
    used = orders_service.voucher_get(voucher_id=voucher.id).uses
    with pytest.raises(Conflict):
        orders_service.voucher_delete(voucher_id=voucher.id)  # an order holds a use: kept for its history
    orders_service.order_cancel(order_id=result.order.id, user_id=user.id, actor_id=user.id)

    # then the order kept the discount and the address, and the use came back with the cancellation
    order = result.order
    assert (order.subtotal, order.discount, order.shipping_cost, order.total) == (
        Decimal("30.00"), Decimal("3.00"), Decimal("5.00"), Decimal("32.00"))
    assert (order.shipping_address.country, order.shipping_address.city) == ("NO", "Oslo")
    assert used == 1
    assert orders_service.voucher_get(voucher_id=voucher.id).uses == 0
    orders_service.voucher_delete(voucher_id=voucher.id)  # no order holds a use: it may go


def test_a_changed_total_is_price_changed_across_the_wire(rpc_mode, make_user, make_product):
    user = make_user()
    fill_cart(user.id, (make_product(price="30.00"), 1))

    with pytest.raises(PriceChanged) as changed:
        orders_service.order_checkout(user_id=user.id, shipping_address=ADDRESS, expected_total=Decimal("29.99"),
                                      idempotency_key=uuid.uuid4().hex, request_fingerprint="fp")

    assert changed.value.extra["lines"] == []
    assert len(carts_service.cart_get(user_id=user.id).items) == 1
