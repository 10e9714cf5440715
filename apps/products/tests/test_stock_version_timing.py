"""When the stock version moves: after the transaction that changed stock has committed, never while it holds the
product rows, and never for a change that rolled back. Each bump is checked from a second connection, as another
checkout would see the product at that moment: the change is visible and the row can be locked at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from apps.products import services
from apps.products.models import Product, StockReservation
from ecommerce import cache_versions
from ecommerce.contracts.products import STOCK_VERSION, ProductInput, StockLine
from ecommerce.errors import InsufficientStock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def seen_from_another_connection(product_id: int) -> dict[str, object]:
    """What a concurrent transaction sees of the product: its reserved stock and whether its row is free to lock."""
    seen: dict[str, object] = {}

    def look() -> None:
        try:
            with transaction.atomic():
                row = Product.objects.select_for_update(nowait=True).get(pk=product_id)
                seen.update(reserved=row.stock_reserved, on_hand=row.stock_on_hand, lockable=True)
        except DatabaseError:
            seen["lockable"] = False
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(timeout=30)
    return seen


class StockBumps:
    """Every bump of the stock version, with what another connection saw of the watched product at that moment."""

    def __init__(self) -> None:
        self.product_id: int | None = None
        self.seen: list[dict[str, object]] = []

    def watch(self, product_id: int) -> None:
        self.product_id, self.seen = product_id, []


@pytest.fixture
def stock_bumps(monkeypatch) -> StockBumps:
    bumps = StockBumps()
    real_bump_now = cache_versions._bump_now

    def watching(names: tuple[str, ...]) -> None:
        if STOCK_VERSION in names and bumps.product_id is not None:
            bumps.seen.append(seen_from_another_connection(bumps.product_id))
        real_bump_now(names)

    monkeypatch.setattr(cache_versions, "_bump_now", watching)
    return bumps


def product(stock: int) -> Product:
    return services.product_create(product=ProductInput(sku=f"TIMING-{uuid.uuid4().hex[:8]}", name="Timed",
                                                        price=Decimal("1.00"), stock=stock))


def reserve(order_id: uuid.UUID, product_id: int, quantity: int) -> None:
    services.stock_reserve(order_id=order_id, lines=[StockLine(product_id=product_id, quantity=quantity)])


@pytest.mark.parametrize(("change", "reserved_after", "on_hand_after"), [
    ("reserve", 3, 10),
    ("release", 0, 10),
    ("commit", 0, 7),
    ("adjust", 3, 12),
])
def test_the_stock_version_moves_after_the_change_committed_and_released_its_rows(stock_bumps, change,
                                                                                  reserved_after, on_hand_after):
    # given a product with 3 of its 10 units reserved by an order (except when the reservation is the change)
    hot = product(10)
    order_id = uuid.uuid4()
    if change != "reserve":
        reserve(order_id, hot.pk, 3)
    stock_bumps.watch(hot.pk)
    changes: dict[str, Callable[[], object]] = {
        "reserve": lambda: reserve(order_id, hot.pk, 3),
        "release": lambda: services.stock_release(order_id=order_id),
        "commit": lambda: services.stock_commit(order_id=order_id),
        "adjust": lambda: services.product_stock_adjust(product_id=hot.pk, delta=2, reason="delivery"),
    }
    # when the stock changes
    changes[change]()
    # then the version moved once, when another transaction could already see the change and lock the row
    assert stock_bumps.seen == [{"reserved": reserved_after, "on_hand": on_hand_after, "lockable": True}]


def test_a_refused_reservation_does_not_move_the_stock_version(stock_bumps):
    # given a product with 2 units
    hot = product(2)
    stock_bumps.watch(hot.pk)
    # when a reservation of 5 is refused
    with pytest.raises(InsufficientStock):
        reserve(uuid.uuid4(), hot.pk, 5)
    # then nothing was reserved and no cached answer was thrown away
    assert stock_bumps.seen == []
    assert StockReservation.objects.count() == 0
    assert Product.objects.get(pk=hot.pk).stock_reserved == 0
