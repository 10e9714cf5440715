"""Shipping names its carrier and tracking number: both required and bounded, written with the status, its history
row and its ``order.shipped`` event; a refused shipment changes nothing."""

from __future__ import annotations

import pytest

from apps.orders import services
from apps.orders.models import Order, OrderStatusChange
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import InvalidTransition, ValidationFailed
from ecommerce.events.models import OutboxEvent


def test_a_paid_order_ships_with_its_carrier_and_tracking_number(place_order):
    order = place_order(OrderStatus.PAID)

    services.order_ship(order_id=order.id, actor_id=7, carrier=" DHL ", tracking_number="JD0001")

    order.refresh_from_db()
    assert (order.status, order.shipping_carrier, order.tracking_number) == ("shipped", "DHL", "JD0001")
    change = OrderStatusChange.objects.filter(order=order).last()
    assert (change.actor_id, change.reason) == (7, "shipped with DHL, tracking number JD0001")
    event = OutboxEvent.objects.filter(type="order.shipped").get()
    assert (event.data["carrier"], event.data["tracking_number"]) == ("DHL", "JD0001")


@pytest.mark.parametrize(("carrier", "tracking_number", "wrong"), [
    ("", "JD0001", {"carrier"}),
    ("DHL", "   ", {"tracking_number"}),
    ("D" * 65, "T" * 101, {"carrier", "tracking_number"}),
])
def test_a_shipment_without_a_carrier_or_tracking_number_changes_nothing(place_order, carrier, tracking_number,
                                                                        wrong):
    order = place_order(OrderStatus.PAID)

    with pytest.raises(ValidationFailed) as refused:
        services.order_ship(order_id=order.id, actor_id=7, carrier=carrier, tracking_number=tracking_number)

    assert set(refused.value.errors) == wrong
    assert Order.objects.get(pk=order.id).status == "paid"
    assert not OutboxEvent.objects.filter(type="order.shipped").exists()


def test_an_unpaid_order_cannot_ship(place_order):
    order = place_order()

    with pytest.raises(InvalidTransition):
        services.order_ship(order_id=order.id, actor_id=7, carrier="DHL", tracking_number="JD0001")

    assert Order.objects.values_list("status", "tracking_number").get(pk=order.id) == ("pending", "")


def test_checkout_keeps_the_customers_e_mail(shopper, place_order):
    customer, _ = shopper

    order = place_order()

    assert Order.objects.get(pk=order.id).customer_email == customer.email
