"""Services of the carts context, called directly: lines checked against what the caller says is available, and the
checkout claims that let a cart be checked out at most once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.carts import selectors, services, tasks
from apps.carts.models import Cart, CartClaim, CartClaimLine, CartItem, ClaimStatus
from apps.carts.tests.conftest import OTHER_USER, PLENTY, USER, lines_of
from ecommerce.errors import CartCheckoutInProgress, InsufficientStock, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

LAMP, BULB, DESK = 21, 22, 23


def add(product_id: int, quantity: int, *, user_id: int = USER, available: int = PLENTY) -> Cart:
    return services.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity, available=available)


# --- the cart itself ---------------------------------------------------------------------------------------------

def test_a_user_gets_one_cart_made_on_first_use():
    first = services.cart_get_or_create(user_id=USER)
    second = services.cart_get_or_create(user_id=USER)

    assert first.pk == second.pk
    assert Cart.objects.filter(user_id=USER).count() == 1


def test_a_users_cart_and_its_lines_are_read_in_one_query_in_the_order_first_added():
    add(BULB, 2)
    add(LAMP, 1)
    add(BULB, 1)
    for product_id in range(100, 118):
        add(product_id, 1)

    with CaptureQueriesContext(connection) as captured:
        updated_at, voucher_code, lines = selectors.user_cart_with_lines(user_id=USER)

    assert len(captured) == 1
    assert [line[:2] for line in lines[:2]] == [(BULB, 3), (LAMP, 1)]
    assert [line[:2] for line in lines[2:]] == [(product_id, 1) for product_id in range(100, 118)]
    assert (updated_at, voucher_code) == (Cart.objects.get(user_id=USER).updated_at, "")


def test_an_empty_cart_reads_as_no_lines_and_no_cart_as_none():
    add(LAMP, 1)
    services.cart_item_remove(user_id=USER, product_id=LAMP)

    assert selectors.user_cart_with_lines(user_id=USER) == (Cart.objects.get(user_id=USER).updated_at, "", [])
    assert selectors.user_cart_with_lines(user_id=OTHER_USER) is None


def test_the_database_refuses_a_second_cart_for_one_user():
    Cart.objects.create(user_id=USER)

    with pytest.raises(IntegrityError), transaction.atomic():
        Cart.objects.create(user_id=USER)


def test_the_database_refuses_a_line_without_quantity_or_a_duplicate_line():
    cart = Cart.objects.create(user_id=USER)
    CartItem.objects.create(cart=cart, product_id=1, quantity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartItem.objects.create(cart=cart, product_id=2, quantity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        CartItem.objects.create(cart=cart, product_id=1, quantity=3)


# --- adding ------------------------------------------------------------------------------------------------------

def test_adding_makes_a_line_and_adding_again_adds_to_it():
    add(LAMP, 2, available=10)
    cart = add(LAMP, 3, available=10)

    assert lines_of(USER) == {LAMP: 5}
    assert cart.user_id == USER


def test_adding_moves_the_cart_timestamp():
    cart = services.cart_get_or_create(user_id=USER)
    before = cart.updated_at

    add(LAMP, 1)

    cart.refresh_from_db()
    assert cart.updated_at > before


@pytest.mark.parametrize("quantity", [0, -1, services.MAX_LINE_QUANTITY + 1])
def test_adding_a_quantity_out_of_range_is_refused_and_writes_nothing(quantity):
    with pytest.raises(ValidationFailed) as error:
        add(LAMP, quantity)

    assert "quantity" in error.value.errors
    assert not Cart.objects.exists()
    assert not CartItem.objects.exists()


def test_a_line_can_never_grow_past_the_maximum():
    add(LAMP, services.MAX_LINE_QUANTITY)

    with pytest.raises(ValidationFailed):
        add(LAMP, 1)

    assert lines_of(USER) == {LAMP: services.MAX_LINE_QUANTITY}


@pytest.mark.parametrize("product_id", [0, -5, 2**70])
def test_adding_an_impossible_product_id_is_not_found_and_writes_nothing(product_id):
    with pytest.raises(NotFound):
        add(product_id, 1)

    assert not Cart.objects.exists()


def test_adding_more_than_available_names_the_line_and_changes_nothing():
    add(LAMP, 4, available=5)

    with pytest.raises(InsufficientStock) as error:
        add(LAMP, 2, available=5)

    assert error.value.extra["lines"] == [{"product_id": LAMP, "requested": 6, "available": 5}]
    assert lines_of(USER) == {LAMP: 4}


# --- setting a quantity ------------------------------------------------------------------------------------------

def test_setting_a_quantity_replaces_it():
    add(LAMP, 2)

    services.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=7, available=10)

    assert lines_of(USER) == {LAMP: 7}


def test_setting_zero_removes_the_line():
    add(LAMP, 2)
    add(BULB, 1)

    services.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=0, available=0)

    assert lines_of(USER) == {BULB: 1}


@pytest.mark.parametrize("quantity", [-1, services.MAX_LINE_QUANTITY + 1])
def test_setting_a_quantity_out_of_range_is_refused(quantity):
    add(LAMP, 2)

    with pytest.raises(ValidationFailed) as error:
        services.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=quantity, available=PLENTY)

    assert "quantity" in error.value.errors
    assert lines_of(USER) == {LAMP: 2}


@pytest.mark.parametrize("quantity", [0, 1])
def test_setting_the_quantity_of_a_product_not_in_the_cart_is_not_found(quantity):
    add(LAMP, 1, user_id=OTHER_USER)

    with pytest.raises(NotFound):
        services.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=quantity, available=PLENTY)

    assert lines_of(USER) == {}
    assert lines_of(OTHER_USER) == {LAMP: 1}


def test_setting_more_than_available_changes_nothing():
    add(LAMP, 2, available=3)

    with pytest.raises(InsufficientStock) as error:
        services.cart_item_set_quantity(user_id=USER, product_id=LAMP, quantity=4, available=3)

    assert error.value.extra["lines"] == [{"product_id": LAMP, "requested": 4, "available": 3}]
    assert lines_of(USER) == {LAMP: 2}


# --- removing and clearing ---------------------------------------------------------------------------------------

def test_removing_a_line_leaves_the_others():
    add(LAMP, 1)
    add(BULB, 1)

    services.cart_item_remove(user_id=USER, product_id=LAMP)

    assert lines_of(USER) == {BULB: 1}


def test_removing_a_product_not_in_the_cart_is_not_found():
    add(LAMP, 1, user_id=OTHER_USER)

    with pytest.raises(NotFound):
        services.cart_item_remove(user_id=USER, product_id=LAMP)

    assert lines_of(OTHER_USER) == {LAMP: 1}


def test_clearing_empties_only_that_cart_and_can_be_repeated():
    add(LAMP, 1)
    add(LAMP, 1, user_id=OTHER_USER)

    services.cart_clear(user_id=USER)
    services.cart_clear(user_id=USER)

    assert lines_of(USER) == {}
    assert lines_of(OTHER_USER) == {LAMP: 1}


def test_clearing_a_cart_never_used_makes_none():
    services.cart_clear(user_id=USER)

    assert not Cart.objects.exists()


# --- checkout claims ---------------------------------------------------------------------------------------------

def claim_of(order_id: uuid.UUID) -> CartClaim:
    return CartClaim.objects.get(order_id=order_id)


def test_claiming_moves_every_line_into_the_claim_and_empties_the_cart():
    add(LAMP, 2)
    add(BULB, 3)
    order_id = uuid.uuid4()

    claimed = services.cart_claim(user_id=USER, order_id=order_id)

    assert [(line.product_id, line.quantity) for line in claimed.lines] == [(LAMP, 2), (BULB, 3)]
    assert lines_of(USER) == {}
    assert claim_of(order_id).status == ClaimStatus.OPEN
    assert dict(CartClaimLine.objects.filter(claim__order_id=order_id).values_list("product_id", "quantity")) == {
        LAMP: 2, BULB: 3}


def test_what_is_added_while_a_claim_is_open_stays_in_the_cart_and_is_claimed_by_the_next_checkout():
    add(LAMP, 2)
    first = uuid.uuid4()
    services.cart_claim(user_id=USER, order_id=first)
    add(LAMP, 1)
    add(DESK, 1)

    second = services.cart_claim(user_id=USER, order_id=uuid.uuid4())

    assert [(line.product_id, line.quantity) for line in second.lines] == [(LAMP, 1), (DESK, 1)]
    assert [(line.product_id, line.quantity) for line in claim_of(first).lines.all()] == [(LAMP, 2)]


def test_claiming_an_empty_cart_is_refused_and_names_the_cart():
    services.cart_get_or_create(user_id=USER)

    with pytest.raises(ValidationFailed) as never_used:
        services.cart_claim(user_id=OTHER_USER, order_id=uuid.uuid4())
    with pytest.raises(ValidationFailed) as empty:
        services.cart_claim(user_id=USER, order_id=uuid.uuid4())

    assert never_used.value.errors == empty.value.errors == {"cart": ["Your cart is empty."]}
    assert not CartClaim.objects.exists()


def test_claiming_a_cart_another_checkout_holds_is_in_progress_and_changes_nothing():
    add(LAMP, 1)
    first = uuid.uuid4()
    services.cart_claim(user_id=USER, order_id=first)

    with pytest.raises(CartCheckoutInProgress):
        services.cart_claim(user_id=USER, order_id=uuid.uuid4())

    assert list(CartClaim.objects.values_list("order_id", flat=True)) == [first]


def test_a_release_merges_into_lines_added_meanwhile_caps_them_and_keeps_their_place():
    add(BULB, 1)
    add(LAMP, 900)
    order_id = uuid.uuid4()
    services.cart_claim(user_id=USER, order_id=order_id)
    add(DESK, 1)
    add(LAMP, 300)

    assert services.cart_claim_release(order_id=order_id) is True
    assert services.cart_claim_release(order_id=order_id) is False

    assert lines_of(USER) == {BULB: 1, LAMP: services.MAX_LINE_QUANTITY, DESK: 1}
    order = list(CartItem.objects.filter(cart__user_id=USER).values_list("product_id", flat=True))
    assert order == [BULB, LAMP, DESK]
    claim = claim_of(order_id)
    assert (claim.status, claim.lines.exists(), claim.settled_at is not None) == (ClaimStatus.RELEASED, False, True)


def test_completing_settles_the_claim_once_and_drops_its_lines():
    add(LAMP, 2)
    order_id = uuid.uuid4()
    services.cart_claim(user_id=USER, order_id=order_id)

    assert services.cart_claim_complete(order_id=order_id) is True
    assert services.cart_claim_complete(order_id=order_id) is False
    assert services.cart_claim_release(order_id=order_id) is False

    claim = claim_of(order_id)
    assert (claim.status, claim.lines.exists()) == (ClaimStatus.COMPLETED, False)
    assert lines_of(USER) == {}


def test_the_database_refuses_a_settled_claim_without_a_time_and_an_open_one_with_one():
    cart = Cart.objects.create(user_id=USER)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartClaim.objects.create(order_id=uuid.uuid4(), cart=cart, status=ClaimStatus.COMPLETED)
    with pytest.raises(IntegrityError), transaction.atomic():
        CartClaim.objects.create(order_id=uuid.uuid4(), cart=cart, settled_at=timezone.now())


def test_stale_open_claims_are_released_by_the_task_and_fresh_or_settled_ones_are_left():
    now = timezone.now()
    stale, fresh, completed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for order_id, product_id in ((stale, LAMP), (fresh, BULB), (completed, DESK)):
        add(product_id, 1)
        services.cart_claim(user_id=USER, order_id=order_id)
    services.cart_claim_complete(order_id=completed)
    long_ago = now - services.CLAIM_TIMEOUT - timedelta(minutes=1)
    CartClaim.objects.filter(order_id__in=[stale, completed]).update(created_at=long_ago)

    released = tasks.release_stale_claims.delay().get()

    assert released == 1
    assert lines_of(USER) == {LAMP: 1}
    statuses = dict(CartClaim.objects.values_list("order_id", "status"))
    assert statuses == {stale: "released", fresh: "open", completed: "completed"}


def test_settled_claims_are_purged_after_the_retention_and_open_ones_never():
    old_open, old_settled, recent_settled = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for order_id, product_id in ((old_open, LAMP), (old_settled, BULB), (recent_settled, DESK)):
        add(product_id, 1)
        services.cart_claim(user_id=USER, order_id=order_id)
    services.cart_claim_complete(order_id=old_settled)
    services.cart_claim_release(order_id=recent_settled)
    long_ago = timezone.now() - services.SETTLED_CLAIM_RETENTION - timedelta(hours=1)
    CartClaim.objects.filter(order_id__in=[old_open, old_settled]).update(created_at=long_ago)
    CartClaim.objects.filter(order_id=old_settled).update(settled_at=long_ago)

    assert tasks.purge_settled_claims.delay().get() == 1

    assert set(CartClaim.objects.values_list("order_id", flat=True)) == {old_open, recent_settled}


def query_count(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_claiming_and_releasing_cost_the_same_queries_for_one_line_or_twenty():
    # given a cart of one line and a cart of twenty
    one, twenty = uuid.uuid4(), uuid.uuid4()
    many = range(100, 120)
    add(LAMP, 1)
    for product_id in many:
        add(product_id, 1, user_id=OTHER_USER)

    # when each is claimed, and released into lines added meanwhile, then both cost the same statements
    assert query_count(lambda: services.cart_claim(user_id=USER, order_id=one)) == query_count(
        lambda: services.cart_claim(user_id=OTHER_USER, order_id=twenty))
    add(LAMP, 1)
    for product_id in many:
        add(product_id, 1, user_id=OTHER_USER)
    assert query_count(lambda: services.cart_claim_release(order_id=one)) == query_count(
        lambda: services.cart_claim_release(order_id=twenty))
    assert lines_of(OTHER_USER) == dict.fromkeys(many, 2)
