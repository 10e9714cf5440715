"""The catalog's event consumer: a shipped order's reserved stock leaves stock on hand once, however often the event
arrives and whichever of ``order.shipped`` and ``order.delivered`` comes first; availability does not move."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from apps.products import services
from apps.products.models import Product, ReservationStatus, StockReservation
from ecommerce.contracts.products import StockLine
from ecommerce.events import subscriptions
from ecommerce.events.handling import MalformedEvent, event_handle
from ecommerce.events.models import ProcessedEvent
from tests.support.events import envelope

pytestmark = pytest.mark.django_db

STOCK_COMMIT = subscriptions.by_consumer("products.stock_commit")


def _reserved_order(product: Product, quantity: int) -> uuid.UUID:
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[StockLine(product_id=product.pk, quantity=quantity)])
    services.stock_reservation_confirm(order_id=order_id)
    return order_id


def _stock(product: Product) -> tuple[int, int, int]:
    stored = Product.objects.get(pk=product.pk)
    return stored.stock_on_hand, stored.stock_reserved, stored.stock_available


def test_a_shipped_order_takes_its_units_off_hand_once_however_often_its_events_arrive(
        make_product: Callable[..., Product]) -> None:
    product = make_product(stock=5)
    order_id = _reserved_order(product, 2)
    shipped = envelope("order.shipped", {"order_id": str(order_id)})
    delivered = envelope("order.delivered", {"order_id": str(order_id)})
    assert _stock(product) == (5, 2, 3)

    assert event_handle(subscription=STOCK_COMMIT, envelope=shipped) is True
    assert event_handle(subscription=STOCK_COMMIT, envelope=shipped) is False
    assert event_handle(subscription=STOCK_COMMIT, envelope=delivered) is True

    assert _stock(product) == (3, 0, 3)
    assert StockReservation.objects.get(order_id=order_id).status == ReservationStatus.COMMITTED
    assert ProcessedEvent.objects.filter(consumer=STOCK_COMMIT.consumer).count() == 2


def test_a_delivery_seen_before_its_shipment_commits_and_the_shipment_then_changes_nothing(
        make_product: Callable[..., Product]) -> None:
    product = make_product(stock=4)
    order_id = _reserved_order(product, 1)

    event_handle(subscription=STOCK_COMMIT, envelope=envelope("order.delivered", {"order_id": str(order_id)}))
    event_handle(subscription=STOCK_COMMIT, envelope=envelope("order.shipped", {"order_id": str(order_id)}))

    assert _stock(product) == (3, 0, 3)


def test_an_event_that_names_no_order_is_malformed_and_changes_nothing(make_product: Callable[..., Product]) -> None:
    product = make_product(stock=4)
    _reserved_order(product, 1)

    with pytest.raises(MalformedEvent, match="names no order"):
        event_handle(subscription=STOCK_COMMIT, envelope=envelope("order.shipped", {"order_id": "not-an-id"}))

    assert _stock(product) == (4, 1, 3)
    assert not ProcessedEvent.objects.exists()
