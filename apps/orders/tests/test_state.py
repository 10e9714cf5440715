"""The status machine: every legal transition applies with its history row, outbox event and stock effect; every
illegal one changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders import services
from apps.orders.models import Order, OrderStatusChange
from apps.orders.state import ALLOWED_TRANSITIONS, can_transition
from apps.orders.tests.conftest import available
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import InvalidTransition, NotFound
from ecommerce.events.models import OutboxEvent

LEGAL = {
    (OrderStatus.PENDING, OrderStatus.PAID),
    (OrderStatus.PENDING, OrderStatus.CANCELED),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.PAID, OrderStatus.CANCELED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
}
ALL_PAIRS = list(itertools.product(OrderStatus, OrderStatus))


def test_the_machine_allows_exactly_the_documented_transitions():
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == LEGAL
    assert all(can_transition(a, b) == ((a, b) in LEGAL) for a, b in ALL_PAIRS)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_a_legal_transition_writes_history_and_its_event(place_order, from_status, to_status):
    # given an order in from_status
    order = place_order(from_status)
    history_before = OrderStatusChange.objects.filter(order=order).count()

    # when staff moves it on
    changed = services.order_transition(order_id=order.id, status=to_status, actor_id=42, reason="test")

    # then it is in the new status, with one more history row and the matching event
    assert changed.status == to_status
    assert Order.objects.get(pk=order.id).status == to_status
    last_change = OrderStatusChange.objects.filter(order=order).last()
    assert OrderStatusChange.objects.filter(order=order).count() == history_before + 1
    assert (last_change.from_status, last_change.to_status, last_change.actor_id, last_change.reason) == (
        from_status, to_status, 42, "test")
    event = OutboxEvent.objects.filter(type=f"order.{to_status}").order_by("occurred_at").last()
    envelope = event.envelope()
    assert set(envelope) == {"id", "type", "occurred_at", "version", "data"}
    assert envelope["version"] == 1
    assert envelope["data"]["order_id"] == str(order.id)
    assert (envelope["data"]["from_status"], envelope["data"]["to_status"]) == (from_status, to_status)
    assert envelope["data"]["lines"][0]["quantity"] == 2


@pytest.mark.parametrize(("from_status", "to_status"), sorted(set(ALL_PAIRS) - LEGAL))
def test_an_illegal_transition_changes_nothing(place_order, from_status, to_status):
    order = place_order(from_status)
    history_before = OrderStatusChange.objects.count()
    events_before = OutboxEvent.objects.count()

    with pytest.raises(InvalidTransition) as refused:
        services.order_transition(order_id=order.id, status=to_status, actor_id=42)

    assert refused.value.extra == {"from_status": from_status, "to_status": to_status}
    assert f"'{from_status}'" in refused.value.detail
    assert f"'{to_status}'" in refused.value.detail
    assert Order.objects.get(pk=order.id).status == from_status
    assert OrderStatusChange.objects.count() == history_before
    assert OutboxEvent.objects.count() == events_before


def test_staff_marking_paid_records_a_manual_payment(place_order):
    order = place_order()

    paid = services.order_transition(order_id=order.id, status=OrderStatus.PAID, actor_id=7)

    assert (paid.payment_status, paid.payment_method) == ("succeeded", "manual")


def test_canceling_releases_the_stock_and_a_paid_order_is_refunded(place_order, make_product):
    product = make_product(stock=6)
    pending = place_order(product=product)
    paid = place_order(OrderStatus.PAID, product=product)
    assert available(product) == 2

    canceled_pending = services.order_cancel(order_id=pending.id, user_id=None, actor_id=1)
    canceled_paid = services.order_cancel(order_id=paid.id, user_id=None, actor_id=1)

    assert (canceled_pending.status, canceled_pending.payment_status) == ("canceled", None)
    assert (canceled_paid.status, canceled_paid.payment_status) == ("canceled", "refunded")
    assert available(product) == 6


def test_shipping_commits_the_stock_for_good(place_order, make_product):
    product = make_product(stock=6)
    order = place_order(OrderStatus.PAID, product=product)

    services.order_transition(order_id=order.id, status=OrderStatus.SHIPPED, actor_id=1)

    # the reservation left stock on hand: nothing comes back, and a late cancel is refused
    assert available(product) == 4
    with pytest.raises(InvalidTransition):
        services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    assert available(product) == 4


def test_an_owner_may_cancel_only_their_own_order(place_order, make_user):
    order = place_order()

    with pytest.raises(NotFound):
        services.order_cancel(order_id=order.id, user_id=make_user().id, actor_id=99)
    assert Order.objects.get(pk=order.id).status == "pending"

    canceled = services.order_cancel(order_id=order.id, user_id=order.user_id, actor_id=order.user_id)
    assert canceled.status == "canceled"
    assert OrderStatusChange.objects.filter(order=order).last().reason == "canceled by the customer"


def test_unpaid_orders_expire_after_the_ttl_and_release_their_stock(place_order, make_product, settings):
    # given an old pending order, a fresh pending order and an old paid order
    settings.ECOMMERCE_ORDER_TTL_MINUTES = 30
    product = make_product(stock=10)
    old = place_order(product=product)
    fresh = place_order(product=product)
    old_paid = place_order(OrderStatus.PAID, product=product)
    Order.objects.filter(pk__in=[old.id, old_paid.id]).update(created_at=timezone.now() - timedelta(minutes=31))
    assert available(product) == 4

    # when the expiry runs
    expired = services.orders_expire_unpaid()

    # then only the old unpaid order is canceled, with reason "expired", and its stock is back
    assert expired == 1
    statuses = dict(Order.objects.values_list("id", "status"))
    assert statuses == {old.id: "canceled", fresh.id: "pending", old_paid.id: "paid"}
    change = OrderStatusChange.objects.filter(order_id=old.id).last()
    assert (change.to_status, change.reason, change.actor_id) == ("canceled", "expired", None)
    assert available(product) == 6
    assert services.orders_expire_unpaid() == 0
