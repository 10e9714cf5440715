"""Writes of stock: receive and write-off, reservations for orders, and the release of stale reservations.

Rules guarded here:
- Stock moves only through conditional ``UPDATE`` statements built on ``F`` expressions, so concurrent writers never
  read-modify-write; the database CHECK constraints are the last line of defence (0 <= reserved <= on hand).
- A reservation (or its settlement) locks every product row it touches with one ``SELECT ... ORDER BY id FOR UPDATE``
  before changing them with one bulk ``UPDATE``: ascending ids are one global lock order, so two checkouts touching
  the same products cannot deadlock, and the number of statements does not grow with the number of lines.
- Reservations are keyed by order id and every reservation call is idempotent, because the orders saga retries them.
- Every receipt and write-off writes its audit row (``StockAdjustment``) in the same transaction as the change.
- A ``stock.low`` event is written in the same transaction as the change that drops available stock to the
  threshold (``settings.ECOMMERCE_LOW_STOCK_THRESHOLD``) from above it.
- The stock version (``stock_changed``) is bumped once the transaction that changed stock has ended, never while it
  holds product rows: under a run on a few hot products every checkout waits for those rows, so a cache round trip
  inside the locked section would lengthen every wait; and a change that rolls back bumps nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from apps.products.invalidation import stock_changed
from apps.products.metrics import STOCK_OUTS, STOCK_REFUSALS
from apps.products.models import (
    Product,
    ReservationStatus,
    StockAdjustment,
    StockAdjustmentSource,
    StockReservation,
)
from apps.products.selectors import quantities_by_product, unsellable_lines
from apps.products.services.validation import MAX_STOCK, Errors, add_error, optional_text
from ecommerce.contracts.products import STOCK_REASON_MAX_LENGTH, StockActor, StockLine
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed
from ecommerce.events.outbox import record_events

STALE_RESERVATION_AGE = timedelta(minutes=10)


def _record_low_stock(products: Iterable[Product], available_before: dict[int, int]) -> None:
    """``products`` carry their stock after the change; ``available_before`` what was available before it."""
    threshold = settings.ECOMMERCE_LOW_STOCK_THRESHOLD
    ran_out = sum(1 for product in products
                  if product.pk in available_before and available_before[product.pk] > 0 >= product.stock_available)
    if ran_out:
        # Counted once the transaction commits: a rolled-back reservation took no stock.
        transaction.on_commit(lambda: STOCK_OUTS.inc(ran_out))
    record_events([
        ("stock.low", {"product_id": product.pk, "sku": product.sku, "name": product.name,
                       "available": product.stock_available, "threshold": threshold})
        for product in products
        if product.pk in available_before and available_before[product.pk] > threshold >= product.stock_available
    ])


def _locked_products(product_ids: Iterable[int]) -> dict[int, Product]:
    locked = Product.objects.select_for_update().only("id", "sku", "name", "is_active", "stock_on_hand",
                                                        "stock_reserved")
    return {product.pk: product for product in locked.filter(pk__in=list(product_ids)).order_by("pk")}


def _per_product(quantities: dict[int, int]) -> Case:
    """``quantities[id]`` for the row being updated: lets one UPDATE change every line by its own amount."""
    return Case(*(When(pk=product_id, then=Value(quantity)) for product_id, quantity in quantities.items()),
                default=Value(0), output_field=IntegerField())


def product_stock_adjust(*, product_id: int, delta: int, reason: str = "", actor: StockActor | None = None,
                         source: str = StockAdjustmentSource.API) -> Product:
    """Receive (delta > 0) or write off (delta < 0) stock on hand, atomically; on hand can never drop below what
    open orders have reserved. The change and its audit row (who, the quantities before and after, why) are
    written in one transaction."""
    errors: Errors = {}
    reason = optional_text(errors, "reason", reason, STOCK_REASON_MAX_LENGTH)
    if delta == 0:
        add_error(errors, "delta", "Must not be zero.")
    elif abs(delta) > MAX_STOCK:
        add_error(errors, "delta", f"Must be between -{MAX_STOCK} and {MAX_STOCK}.")
    if errors:
        raise ValidationFailed(errors=errors)
    guard = Q(stock_on_hand__gte=F("stock_reserved") - delta) if delta < 0 else Q(stock_on_hand__lte=MAX_STOCK - delta)
    with transaction.atomic():
        updated = Product.objects.filter(guard, pk=product_id).update(
            stock_on_hand=F("stock_on_hand") + delta, updated_at=timezone.now()
        )
        # The UPDATE holds the row's lock until commit, so what is read now is exactly what it left.
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
        record_stock_adjustment(product, delta=delta, reason=reason, actor=actor, source=source)
        _record_low_stock([product], {product.pk: product.stock_available - delta})
    stock_changed()
    return product


def record_stock_adjustment(product: Product, *, delta: int, reason: str, actor: StockActor | None,
                            source: str) -> StockAdjustment:
    """The audit row of a change already applied to ``product`` (which carries the quantities after it); the
    caller's transaction makes the two one."""
    return StockAdjustment.objects.create(
        product=product, sku=product.sku, delta=delta, on_hand_before=product.stock_on_hand - delta,
        on_hand_after=product.stock_on_hand, reserved=product.stock_reserved, reason=reason, source=source,
        actor_id=actor.id if actor else None, actor_email=actor.email if actor else "",
    )


def stock_reserve(*, order_id: UUID, lines: Iterable[StockLine], replaces_order_id: UUID | None = None) -> None:
    """Reserve every line for the order, or nothing. Repeating the call for an order that already has reservations
    does nothing. Raises InsufficientStock naming every short line. ``replaces_order_id`` names a dead checkout's
    order whose reservation is released first, in this transaction."""
    wanted = quantities_by_product(lines)
    if not wanted:
        raise ValidationFailed(errors={"lines": ["At least one line is required."]})
    try:
        with transaction.atomic():
            changed = _reserve_locked(order_id, wanted, replaces_order_id)
    except IntegrityError:
        # A concurrent call for the same order won the unique (order, product) race: that call did the work.
        if StockReservation.objects.filter(order_id=order_id).exists():
            return
        raise
    if changed:
        stock_changed()


def _reserve_locked(order_id: UUID, wanted: dict[int, int], replaces_order_id: UUID | None) -> bool:
    """``stock_reserve``'s transaction; returns whether it changed any stock. The order's reservation rows are
    written first, before any product row is locked: under a run on a few hot products every checkout queues for
    those rows, so what runs while they are held is only their lock, their UPDATE and the commit. A repeated call
    breaks the unique (order, product) key on that first INSERT, and its caller finds the work done."""
    # Reservation rows are locked before product rows, as every settlement does.
    replaced = _reserved_rows(replaces_order_id) if replaces_order_id is not None else []
    StockReservation.objects.bulk_create([
        StockReservation(order_id=order_id, product_id=product_id, quantity=quantity)
        for product_id, quantity in wanted.items()
    ])
    products = _locked_products({*wanted, *(r.product_id for r in replaced)})
    if replaced:
        _settle_rows(replaced, to_status=ReservationStatus.RELEASED, consume_on_hand=False)
        for row in replaced:
            products[row.product_id].stock_reserved -= row.quantity
    short = _short_lines(wanted, products)
    if not short:
        reserved = _per_product(wanted)
        updated = Product.objects.filter(
            pk__in=list(wanted), is_active=True, stock_on_hand__gte=F("stock_reserved") + reserved
        ).update(stock_reserved=F("stock_reserved") + reserved, updated_at=timezone.now())
        if updated != len(wanted):
            # The rows were locked, so only a database without row locks gets here: the guard in the
            # UPDATE itself refused a line. Read again to name it; the transaction rolls back.
            short = _short_lines(wanted, {p.pk: p for p in Product.objects.filter(pk__in=list(wanted))})
            short = short or [_line(product_id, quantity, 0) for product_id, quantity in wanted.items()]
    if short:
        STOCK_REFUSALS.inc()
        raise InsufficientStock(f"Not enough stock for {len(short)} line(s); nothing was reserved.", lines=short)
    available_before = {product_id: products[product_id].stock_available for product_id in wanted}
    for product_id, quantity in wanted.items():
        products[product_id].stock_reserved += quantity
    _record_low_stock(products.values(), available_before)
    return True


def _line(product_id: int, requested: int, available: int) -> dict[str, int]:
    return {"product_id": product_id, "requested": requested, "available": available}


def _short_lines(wanted: dict[int, int], products: dict[int, Product]) -> list[dict[str, int]]:
    """Every line the products cannot serve now, unknown and withdrawn products (nothing available) included."""
    unsellable = {line["product_id"]: line for line in unsellable_lines(wanted, products)}
    short = []
    for product_id, quantity in wanted.items():
        if product_id in unsellable:
            short.append(unsellable[product_id])
        elif products[product_id].stock_available < quantity:
            short.append(_line(product_id, quantity, max(products[product_id].stock_available, 0)))
    return short


def stock_reservation_confirm(*, order_id: UUID) -> None:
    """The order holding the reservation was written; the stale-reservation sweep leaves it alone from now on."""
    StockReservation.objects.filter(order_id=order_id, confirmed=False).update(
        confirmed=True, updated_at=timezone.now()
    )


def _reserved_rows(order_id: UUID, only: Q | None = None) -> list[StockReservation]:
    return list(
        StockReservation.objects.select_for_update()
        .filter(only or Q(), order_id=order_id, status=ReservationStatus.RESERVED)
        .order_by("product_id")
    )


def _settle_rows(rows: list[StockReservation], *, to_status: str, consume_on_hand: bool) -> None:
    """Take the rows' quantities off ``stock_reserved`` (and off ``stock_on_hand`` when the goods left) and mark
    them ``to_status``. The caller holds the locks on the rows and on their products, and bumps the stock version
    once its transaction has ended."""
    quantities = {row.product_id: row.quantity for row in rows}  # one row per (order, product)
    now = timezone.now()
    settled = _per_product(quantities)
    changes: dict[str, Any] = {"stock_reserved": F("stock_reserved") - settled, "updated_at": now}
    if consume_on_hand:
        changes["stock_on_hand"] = F("stock_on_hand") - settled
    Product.objects.filter(pk__in=list(quantities)).update(**changes)
    StockReservation.objects.filter(pk__in=[row.pk for row in rows]).update(status=to_status, updated_at=now)


def _settle(order_id: UUID, *, to_status: str, consume_on_hand: bool, only: Q | None = None) -> int:
    """Settle the order's still-reserved rows; rows already settled are skipped, which makes it idempotent."""
    with transaction.atomic():
        rows = _reserved_rows(order_id, only)
        if rows:
            _locked_products(row.product_id for row in rows)
            _settle_rows(rows, to_status=to_status, consume_on_hand=consume_on_hand)
    if rows:
        stock_changed()
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
