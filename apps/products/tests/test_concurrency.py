"""Reservations under real concurrency (PostgreSQL, real threads, each with its own connection): the conditional
UPDATE never oversells, and the fixed lock order means opposite line orders cannot deadlock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from apps.products import services
from apps.products.models import Product, StockReservation
from ecommerce.contracts.products import ProductInput, StockLine
from ecommerce.errors import InsufficientStock

# serialized_rollback: the flush after each test must not re-create content types behind the back of later
# serialized-rollback tests, and the migrated groups and permissions come back for whoever runs next.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def stock_lines(*lines: tuple[int, int]) -> list[StockLine]:
    return [StockLine(product_id=product_id, quantity=quantity) for product_id, quantity in lines]


def run_in_threads(workers: list[Callable[[], object]]) -> list[object]:
    """Start every worker at once; each returns its result or the exception it raised."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - the test inspects whatever happened
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def create(sku: str, stock: int) -> Product:
    return services.product_create(product=ProductInput(sku=sku, name=sku, price=Decimal("1.00"), stock=stock))


def test_thirty_buyers_of_ten_units_exactly_ten_succeed(transactional_db):
    product = create("HOT-ITEM", 10)

    def buy() -> str:
        services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((product.pk, 1)))
        return "reserved"

    results = run_in_threads([buy] * 30)

    assert results.count("reserved") == 10
    assert all(isinstance(r, InsufficientStock) for r in results if r != "reserved")
    stored = Product.objects.get(pk=product.pk)
    assert (stored.stock_on_hand, stored.stock_reserved) == (10, 10)
    assert StockReservation.objects.count() == 10


def test_opposite_line_orders_do_not_deadlock(transactional_db):
    first, second = create("FIRST", 1000), create("SECOND", 1000)

    def forwards() -> str:
        for _ in range(10):
            services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((first.pk, 1), (second.pk, 1)))
        return "ok"

    def backwards() -> str:
        for _ in range(10):
            services.stock_reserve(order_id=uuid.uuid4(), lines=stock_lines((second.pk, 1), (first.pk, 1)))
        return "ok"

    results = run_in_threads([forwards, backwards] * 4)

    assert results == ["ok"] * 8
    assert set(Product.objects.values_list("stock_reserved", flat=True)) == {80}


def test_concurrent_reserve_of_one_order_reserves_once(transactional_db):
    product = create("ONCE", 100)
    order_id = uuid.uuid4()

    def reserve() -> str:
        services.stock_reserve(order_id=order_id, lines=stock_lines((product.pk, 3)))
        return "ok"

    assert run_in_threads([reserve] * 8) == ["ok"] * 8
    assert Product.objects.get(pk=product.pk).stock_reserved == 3
