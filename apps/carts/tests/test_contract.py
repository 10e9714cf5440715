"""Every method of the carts contract, in-process and through the loopback RPC path (serialisation, signature,
internal endpoint), including the typed errors it raises crossing the wire."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ecommerce.contracts.carts import CartClaimDTO, CartDTO, CartLineDTO, carts_service
from ecommerce.errors import CartCheckoutInProgress, Conflict, InsufficientStock, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

USER = 301
OTHER_USER = 302
LAMP, BULB, DESK = 11, 12, 13


def quantities(cart: CartDTO) -> dict[int, int]:
    return {line.product_id: line.quantity for line in cart.items}


def add(product_id: int, quantity: int, *, user_id: int = USER, available: int = 100) -> CartDTO:
    return carts_service.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity, available=available)


def test_cart_get_gives_an_empty_cart_to_a_new_user(rpc_mode):
    cart = carts_service.cart_get(user_id=USER)

    assert cart.user_id == USER
    assert cart.items == []
    assert cart.updated_at is not None
    assert carts_service.cart_get(user_id=USER).updated_at == cart.updated_at


def test_cart_item_add_returns_the_lines_in_the_order_first_added(rpc_mode):
    add(BULB, 2)
    add(LAMP, 1)
    cart = add(BULB, 1)

    assert isinstance(cart, CartDTO)
    assert cart.items == [CartLineDTO(product_id=BULB, quantity=3), CartLineDTO(product_id=LAMP, quantity=1)]
    assert carts_service.cart_get(user_id=OTHER_USER).items == []


def test_cart_item_add_errors_cross_the_wire(rpc_mode):
    with pytest.raises(ValidationFailed) as invalid:
        add(LAMP, 0)
    with pytest.raises(NotFound):
        add(0, 1)
    with pytest.raises(InsufficientStock) as short:
        add(LAMP, 3, available=2)

    assert list(invalid.value.errors) == ["quantity"]
    assert short.value.extra["lines"] == [{"product_id": LAMP, "requested": 3, "available": 2}]
    assert carts_service.cart_get(user_id=USER).items == []


def test_cart_item_set_quantity_sets_and_removes(rpc_mode):
    add(LAMP, 1)
    add(BULB, 1)

    changed = carts_service.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=6, available=9)
    removed = carts_service.cart_item_set_quantity(user_id=USER, product_id=BULB, quantity=0, available=0)

    assert quantities(changed) == {LAMP: 6, BULB: 1}
    assert quantities(removed) == {LAMP: 6}


def test_cart_item_set_quantity_errors_cross_the_wire(rpc_mode):
    add(LAMP, 2)

    with pytest.raises(ValidationFailed) as invalid:
        carts_service.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=-1, available=3)
    with pytest.raises(NotFound):
        carts_service.cart_item_set_quantity(user_id=USER, product_id=BULB, quantity=1, available=3)
    with pytest.raises(InsufficientStock) as short:
        carts_service.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=4, available=3)

    assert "quantity" in invalid.value.errors
    assert short.value.extra["lines"] == [{"product_id": LAMP, "requested": 4, "available": 3}]
    assert quantities(carts_service.cart_get(user_id=USER)) == {LAMP: 2}


def test_cart_item_remove(rpc_mode):
    add(LAMP, 1)
    add(BULB, 2)

    cart = carts_service.cart_item_remove(user_id=USER, product_id=LAMP)
    with pytest.raises(NotFound):
        carts_service.cart_item_remove(user_id=USER, product_id=LAMP)

    assert quantities(cart) == {BULB: 2}


def test_cart_clear_is_idempotent_and_touches_only_that_cart(rpc_mode):
    add(LAMP, 1)
    add(LAMP, 1, user_id=OTHER_USER)

    assert carts_service.cart_clear(user_id=USER) is None
    carts_service.cart_clear(user_id=USER)

    assert carts_service.cart_get(user_id=USER).items == []
    assert quantities(carts_service.cart_get(user_id=OTHER_USER)) == {LAMP: 1}


# --- checkout claims ------------------------------------------------------------------------------------------------

def test_a_claim_takes_the_cart_once_and_is_repeatable_by_its_order(rpc_mode):
    add(DESK, 1)
    add(LAMP, 2)
    order_id = uuid.uuid4()

    claim = carts_service.cart_claim(user_id=USER, order_id=order_id)
    again = carts_service.cart_claim(user_id=USER, order_id=order_id)

    assert isinstance(claim, CartClaimDTO)
    assert claim.order_id == order_id
    assert claim.lines == [CartLineDTO(product_id=LAMP, quantity=2), CartLineDTO(product_id=DESK, quantity=1)]
    assert again == claim
    assert carts_service.cart_get(user_id=USER).items == []


def test_a_second_checkout_of_a_claimed_cart_is_told_so_across_the_wire(rpc_mode):
    add(LAMP, 1)
    first = uuid.uuid4()
    carts_service.cart_claim(user_id=USER, order_id=first)

    with pytest.raises(CartCheckoutInProgress):
        carts_service.cart_claim(user_id=USER, order_id=uuid.uuid4())
    carts_service.cart_claim_complete(order_id=first)
    with pytest.raises(ValidationFailed) as empty:
        carts_service.cart_claim(user_id=USER, order_id=uuid.uuid4())
    with pytest.raises(ValidationFailed):
        carts_service.cart_claim(user_id=OTHER_USER, order_id=uuid.uuid4())
    with pytest.raises(Conflict):
        carts_service.cart_claim(user_id=USER, order_id=first)

    assert empty.value.errors == {"cart": ["Your cart is empty."]}


def test_a_released_claim_goes_back_into_the_cart_merged_and_capped(rpc_mode):
    add(LAMP, 600, available=5000)
    add(BULB, 1)
    order_id = uuid.uuid4()
    carts_service.cart_claim(user_id=USER, order_id=order_id)
    add(LAMP, 700, available=5000)  # the shopper keeps shopping meanwhile
    add(DESK, 1)

    assert carts_service.cart_claim_release(order_id=order_id) is None
    carts_service.cart_claim_release(order_id=order_id)

    cart = carts_service.cart_get(user_id=USER)
    assert quantities(cart) == {LAMP: 1000, BULB: 1, DESK: 1}
    # the returned lines keep their place: first added, first shown
    assert [line.product_id for line in cart.items] == [LAMP, BULB, DESK]


def test_a_completed_claim_stays_out_of_the_cart_and_a_release_after_it_changes_nothing(rpc_mode):
    add(LAMP, 2)
    order_id = uuid.uuid4()
    carts_service.cart_claim(user_id=USER, order_id=order_id)
    add(BULB, 1)

    carts_service.cart_claim_complete(order_id=order_id)
    carts_service.cart_claim_complete(order_id=order_id)
    carts_service.cart_claim_release(order_id=order_id)

    assert quantities(carts_service.cart_get(user_id=USER)) == {BULB: 1}


def test_a_claim_replacing_a_dead_checkouts_claim_takes_its_lines_over(rpc_mode):
    add(LAMP, 2)
    dead, retry = uuid.uuid4(), uuid.uuid4()
    carts_service.cart_claim(user_id=USER, order_id=dead)
    add(BULB, 1)

    claim = carts_service.cart_claim(user_id=USER, order_id=retry, replaces_order_id=dead)

    assert claim.lines == [CartLineDTO(product_id=LAMP, quantity=2), CartLineDTO(product_id=BULB, quantity=1)]
    assert carts_service.cart_get(user_id=USER).items == []
    carts_service.cart_claim_release(order_id=dead)  # the dead claim is settled: nothing comes back twice
    carts_service.cart_claim_release(order_id=retry)
    assert quantities(carts_service.cart_get(user_id=USER)) == {LAMP: 2, BULB: 1}


# --- guest carts, vouchers, prices seen -----------------------------------------------------------------------------

def test_guest_cart_create_gives_a_cart_that_a_token_names(rpc_mode):
    token = carts_service.guest_cart_create().token

    cart = carts_service.cart_item_add(guest_token=token, product_id=LAMP, quantity=2, available=5,
                                       unit_price=Decimal("9.50"))

    assert cart.user_id is None
    assert cart.items == [CartLineDTO(product_id=LAMP, quantity=2, added_unit_price=Decimal("9.50"))]
    assert quantities(carts_service.cart_get(guest_token=token)) == {LAMP: 2}
    assert carts_service.guest_cart_create().token != token
    with pytest.raises(NotFound):
        carts_service.cart_get(guest_token="no-such-token")


def test_a_cart_is_named_by_a_user_or_a_token_never_both(rpc_mode):
    token = carts_service.guest_cart_create().token

    with pytest.raises(ValidationFailed):
        carts_service.cart_get(user_id=USER, guest_token=token)
    with pytest.raises(ValidationFailed):
        carts_service.cart_get()


def test_guest_cart_merge_adds_caps_reprices_and_happens_once(rpc_mode):
    # given the user's cart with 2 lamps, and a guest cart with 3 lamps, 1 bulb and a voucher
    add(LAMP, 2)
    token = carts_service.guest_cart_create().token
    carts_service.cart_item_add(guest_token=token, product_id=LAMP, quantity=3, available=9,
                                unit_price=Decimal("9.00"))
    carts_service.cart_item_add(guest_token=token, product_id=BULB, quantity=1, available=9,
                                unit_price=Decimal("1.00"))
    carts_service.cart_voucher_set(guest_token=token, code="WELCOME")

    # when it merges with 4 lamps available (bulbs: whatever is asked), then once more
    merged = carts_service.guest_cart_merge(guest_token=token, user_id=USER, available={LAMP: 4, BULB: 10},
                                            unit_prices={LAMP: Decimal("9.90"), BULB: Decimal("1.10")})
    again = carts_service.guest_cart_merge(guest_token=token, user_id=USER, available={LAMP: 4, BULB: 10},
                                           unit_prices={LAMP: Decimal("9.90"), BULB: Decimal("1.10")})

    # then the lamps were capped and reported, prices are today's, the voucher came along; the second merge is a no-op
    assert quantities(merged.cart) == {LAMP: 4, BULB: 1}
    assert [line.added_unit_price for line in merged.cart.items] == [Decimal("9.90"), Decimal("1.10")]
    assert merged.cart.voucher_code == "WELCOME"
    assert [(notice.product_id, notice.code, notice.requested, notice.kept) for notice in merged.notices] == [
        (LAMP, "quantity_capped", 5, 4)]
    assert again.notices == []
    assert quantities(again.cart) == {LAMP: 4, BULB: 1}
    with pytest.raises(NotFound):
        carts_service.cart_get(guest_token=token)


def test_a_product_no_longer_available_is_dropped_from_the_merge_and_reported(rpc_mode):
    token = carts_service.guest_cart_create().token
    carts_service.cart_item_add(guest_token=token, product_id=DESK, quantity=2, available=9)

    merged = carts_service.guest_cart_merge(guest_token=token, user_id=USER, available={}, unit_prices={})

    assert merged.cart.items == []
    assert [(notice.requested, notice.kept) for notice in merged.notices] == [(2, 0)]


def test_cart_voucher_set_keeps_and_removes_the_code_and_a_claim_takes_it(rpc_mode):
    add(LAMP, 1)

    kept = carts_service.cart_voucher_set(user_id=USER, code="SPRING")
    order_id = uuid.uuid4()
    claim = carts_service.cart_claim(user_id=USER, order_id=order_id)
    emptied = carts_service.cart_get(user_id=USER)
    carts_service.cart_claim_release(order_id=order_id)
    restored = carts_service.cart_get(user_id=USER)
    removed = carts_service.cart_voucher_set(user_id=USER, code=None)

    assert kept.voucher_code == "SPRING"
    assert claim.voucher_code == "SPRING"
    assert emptied.voucher_code is None
    assert restored.voucher_code == "SPRING"
    assert removed.voucher_code is None


def test_a_claim_carries_the_prices_seen(rpc_mode):
    carts_service.cart_item_add(user_id=USER, product_id=LAMP, quantity=1, available=3, unit_price=Decimal("4.00"))

    claim = carts_service.cart_claim(user_id=USER, order_id=uuid.uuid4())

    assert claim.lines == [CartLineDTO(product_id=LAMP, quantity=1, added_unit_price=Decimal("4.00"))]
