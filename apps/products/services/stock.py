"""Writes of stock: receive and write-off, reservations for orders, and the release of stale reservations.

Rules guarded here:
- Stock moves only through conditional ``UPDATE`` statements built on ``F`` expressions, so concurrent writers never
  read-modify-write; the database CHECK constraints are the last line of defence (0 <= reserved <= on hand).
- Reservations are keyed by order id and every reservation call is idempotent, because the orders saga retries them.
- Products are locked in ascending id order so two checkouts touching the same products cannot deadlock.
- A ``stock.low`` event is written in the same transaction as the change that drops available stock to the
  threshold (``settings.ECOMMERCE_LOW_STOCK_THRESHOLD``) from above it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.products.models import Product, ReservationStatus, StockReservation
from apps.products.services.validation import MAX_STOCK
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed
from ecommerce.events.outbox import record_event

STALE_RESERVATION_AGE = timedelta(minutes=10)


def _record_low_stock(products: Iterable[Product], available_before: dict[int, int]) -> None:
    threshold = settings.ECOMMERCE_LOW_STOCK_THRESHOLD
    for product in products:
        before = available_before.get(product.pk)
        if before is not None and before > threshold >= product.stock_available:
            record_event("stock.low", {
                "product_id": product.pk, "sku": product.sku, "available": product.stock_available,
                "threshold": threshold,
            })


def product_stock_adjust(*, product_id: int, delta: int) -> Product:
    """Receive (delta > 0) or write off (delta < 0) stock on hand, atomically; on hand can never drop below what
    open orders have reserved."""
    if delta == 0:
        raise ValidationFailed(errors={"delta": ["Must not be zero."]})
    if abs(delta) > MAX_STOCK:
        raise ValidationFailed(errors={"delta": [f"Must be between -{MAX_STOCK} and {MAX_STOCK}."]})
    guard = Q(stock_on_hand__gte=F("stock_reserved") - delta) if delta < 0 else Q(stock_on_hand__lte=MAX_STOCK - delta)
    with transaction.atomic():
        updated = Product.objects.filter(guard, pk=product_id).update(
            stock_on_hand=F("stock_on_hand") + delta, updated_at=timezone.now()
        )
        product = Product.objects.filter(pk=product_id).first()
        if product is None:
            raise NotFound(f"Product {product_id} does not exist.")
        if not updated:
            if delta > 0:
                raise ValidationFailed(errors={"delta": [f"Stock on hand may not exceed {MAX_STOCK}."]})
            raise InsufficientStock(
                f"Cannot write off {-delta}: {product.stock_on_hand} on hand of which {product.stock_reserved} "
                f"reserved by open orders, so at most {product.stock_available} can be written off.",
                lines=[{"product_id": product.pk, "requested": -delta, "available": product.stock_available}],
            )
        _record_low_stock([product], {product.pk: product.stock_available - delta})
    return product


def stock_reserve(*, order_id: UUID, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve every (product_id, quantity) line for the order, or nothing. Repeating the call for an order that
    already has reservations does nothing. Raises InsufficientStock naming every short line."""
    wanted: dict[int, int] = defaultdict(int)
    for product_id, quantity in lines:
        if quantity < 1:
            raise ValidationFailed(errors={"lines": ["Every quantity must be at least 1."]})
        wanted[product_id] += quantity
    if not wanted:
        raise ValidationFailed(errors={"lines": ["At least one line is required."]})
    try:
        with transaction.atomic():
            if StockReservation.objects.filter(order_id=order_id).exists():
                return
            now = timezone.now()
            short: list[tuple[int, int]] = []
            for product_id, quantity in sorted(wanted.items()):  # ascending ids: a fixed lock order
                updated = Product.objects.filter(
                    pk=product_id, is_active=True, stock_on_hand__gte=F("stock_reserved") + quantity
                ).update(stock_reserved=F("stock_reserved") + quantity, updated_at=now)
                if not updated:
                    short.append((product_id, quantity))
            products = {p.pk: p for p in Product.objects.filter(pk__in=list(wanted))}
            if short:
                raise InsufficientStock(
                    f"Not enough stock for {len(short)} line(s); nothing was reserved.",
                    lines=[
                        {
                            "product_id": product_id,
                            "requested": quantity,
                            "available": max(products[product_id].stock_available, 0)
                            if product_id in products and products[product_id].is_active else 0,
                        }
                        for product_id, quantity in short
                    ],
                )
            StockReservation.objects.bulk_create([
                StockReservation(order_id=order_id, product_id=product_id, quantity=quantity)
                for product_id, quantity in sorted(wanted.items())
            ])
            _record_low_stock(products.values(), {
                product_id: products[product_id].stock_available + quantity for product_id, quantity in wanted.items()
            })
    except IntegrityError:
        # A concurrent call for the same order won the unique (order, product) race: that call did the work.
        if StockReservation.objects.filter(order_id=order_id).exists():
            return
        raise


def stock_reservation_confirm(*, order_id: UUID) -> None:
    """The order holding the reservation was written; the stale-reservation sweep leaves it alone from now on."""
    StockReservation.objects.filter(order_id=order_id, confirmed=False).update(
        confirmed=True, updated_at=timezone.now()
    )


def _settle(order_id: UUID, *, to_status: str, consume_on_hand: bool, only: Q | None = None) -> int:
    """Move the order's still-reserved rows to ``to_status`` and take their quantity off ``stock_reserved`` (and
    off ``stock_on_hand`` when the goods left). Rows already settled are skipped, which makes it idempotent."""
    with transaction.atomic():
        rows = list(
            StockReservation.objects.select_for_update()
            .filter(only or Q(), order_id=order_id, status=ReservationStatus.RESERVED)
            .order_by("product_id")
        )
        if not rows:
            return 0
        now = timezone.now()
        for row in rows:
            changes: dict[str, Any] = {"stock_reserved": F("stock_reserved") - row.quantity, "updated_at": now}
            if consume_on_hand:
                changes["stock_on_hand"] = F("stock_on_hand") - row.quantity
            Product.objects.filter(pk=row.product_id).update(**changes)
        StockReservation.objects.filter(pk__in=[row.pk for row in rows]).update(status=to_status, updated_at=now)
        return len(rows)


def stock_release(*, order_id: UUID) -> int:
    return _settle(order_id, to_status=ReservationStatus.RELEASED, consume_on_hand=False)


def stock_commit(*, order_id: UUID) -> int:
    return _settle(order_id, to_status=ReservationStatus.COMMITTED, consume_on_hand=True)


def stock_release_stale(*, older_than: timedelta = STALE_RESERVATION_AGE) -> int:
    """Release reservations of checkouts that died before writing their order: still reserved, never confirmed,
    older than ``older_than``. Returns how many orders' reservations were released."""
    cutoff = timezone.now() - older_than
    stale = Q(confirmed=False, created_at__lt=cutoff)
    order_ids = list(
        StockReservation.objects.filter(stale, status=ReservationStatus.RESERVED)
        .order_by("order_id").values_list("order_id", flat=True).distinct()
    )
    # Re-checked under lock per order, so one confirmed meanwhile is left alone.
    return sum(1 for order_id in order_ids
               if _settle(order_id, to_status=ReservationStatus.RELEASED, consume_on_hand=False, only=stale))
