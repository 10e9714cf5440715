"""Order writes: the checkout saga, status transitions with their stock effects, expiry of unpaid orders and the
clean-up of old idempotency keys.

Rules guarded here:
- No contract call runs inside ``transaction.atomic()``: a remote service cannot join our transaction. Checkout is
  a saga instead: claim the idempotency key, read (address, cart, prices), reserve stock keyed by the order id,
  write the order in one local transaction, then confirm the reservation and clear the cart. A failure after the
  reservation gives the stock back (compensation).
- Every status change locks the order row, writes a history row and its outbox event in the same transaction, so
  two concurrent transitions cannot both apply and no change exists without its event. Stock effects follow after
  commit and are idempotent, keyed by the order id.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders import selectors
from apps.orders.models import CheckoutAttempt, Order, OrderLine, OrderStatusChange, PaymentStatus
from apps.orders.state import EVENT_FOR_STATUS, STOCK_EFFECT_FOR_STATUS, StockEffect, ensure_transition
from ecommerce.contracts.carts import CartLineQuantity, carts_service
from ecommerce.contracts.orders import OrderStatus
from ecommerce.contracts.products import StockLine, products_service
from ecommerce.contracts.users import AddressDTO, users_service
from ecommerce.errors import (
    ContractError,
    IdempotencyConflict,
    IdempotencyInProgress,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    RemoteServiceError,
    ValidationFailed,
)
from ecommerce.events.outbox import record_event
from ecommerce.money import MAX_AMOUNT, ZERO, currency, money_sum, to_money

logger = logging.getLogger(__name__)

# An attempt still "in progress" after this long belongs to a process that died; another request may take it over.
STALE_ATTEMPT_SECONDS = 60
EXPIRY_BATCH_SIZE = 500
# Follow-up work younger than this is still being done by the request that made the change.
FOLLOWUP_GRACE_SECONDS = 30
MANUAL_PAYMENT = "manual"
_ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I/L to misread on the phone


def order_number_generate(now: datetime) -> str:
    """Human-readable and unique in practice (32^8 per day); the unique index is the backstop."""
    suffix = "".join(secrets.choice(_ORDER_NUMBER_ALPHABET) for _ in range(8))
    return f"ORD-{now:%Y%m%d}-{suffix}"


def shipping_cost_for(subtotal: Decimal) -> Decimal:
    if subtotal >= to_money(settings.ECOMMERCE_FREE_SHIPPING_FROM):
        return ZERO
    return to_money(settings.ECOMMERCE_SHIPPING_FLAT)


@dataclass(frozen=True)
class CheckoutOutcome:
    order: Order
    replayed: bool


@dataclass(frozen=True)
class PricedLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return to_money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class CheckoutClaim:
    """This request owns the attempt as long as the attempt still carries ``order_id``."""

    attempt_id: int
    order_id: uuid.UUID
    # The order id a dead predecessor reserved stock under; its reservation is given back before we start.
    abandoned_order_id: uuid.UUID | None = None


# --- idempotency keys ---------------------------------------------------------------------------------------------

def checkout_attempt_claim(*, user_id: int, idempotency_key: str,
                           request_fingerprint: str) -> CheckoutClaim | CheckoutOutcome:
    """Claim the key for this request, or answer from the attempt that already holds it.

    The INSERT runs in its own short transaction and the unique (user, key) constraint decides the race: of two
    requests with one key exactly one inserts. The loser reads the winner's attempt and replays its outcome, or
    reports it still running (409), or reports a different body (422)."""
    for _ in range(3):
        now = timezone.now()
        expired_before = now - timedelta(seconds=settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS)
        CheckoutAttempt.objects.filter(
            user_id=user_id, idempotency_key=idempotency_key, created_at__lt=expired_before
        ).delete()
        order_id = uuid.uuid4()
        try:
            with transaction.atomic():
                attempt = CheckoutAttempt.objects.create(
                    user_id=user_id, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint,
                    order_id=order_id, created_at=now, updated_at=now,
                )
            return CheckoutClaim(attempt_id=attempt.pk, order_id=order_id)
        except IntegrityError:
            existing = CheckoutAttempt.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
        if existing is None:
            continue  # its run failed unexpectedly and gave the key back: claim it again
        answer = _answer_from_existing_attempt(existing, request_fingerprint=request_fingerprint, now=now)
        if answer is not None:
            return answer
    raise IdempotencyInProgress()


def _answer_from_existing_attempt(existing: CheckoutAttempt, *, request_fingerprint: str,
                                  now: datetime) -> CheckoutClaim | CheckoutOutcome | None:
    if existing.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request.")
    if existing.state == CheckoutAttempt.State.SUCCEEDED:
        return CheckoutOutcome(order=selectors.order_get(order_id=existing.order_id), replayed=True)
    if existing.state == CheckoutAttempt.State.FAILED:
        error = ContractError.from_payload(existing.error or {})
        error.extra["replayed"] = True
        raise error
    if existing.updated_at > now - timedelta(seconds=STALE_ATTEMPT_SECONDS):
        raise IdempotencyInProgress()
    # Take over a stale attempt. The conditional UPDATE lets exactly one taker win; the old claimant, should it
    # still be alive, finds its order id gone from the attempt when it tries to write its order and gives up.
    new_order_id = uuid.uuid4()
    taken = CheckoutAttempt.objects.filter(
        pk=existing.pk, state=CheckoutAttempt.State.IN_PROGRESS, updated_at=existing.updated_at
    ).update(order_id=new_order_id, updated_at=now)
    if not taken:
        return None  # someone else moved it on: read it again
    return CheckoutClaim(attempt_id=existing.pk, order_id=new_order_id, abandoned_order_id=existing.order_id)


def _attempt_fail(claim: CheckoutClaim, error: ContractError) -> None:
    """An expected answer (empty cart, unknown address, short stock) is kept, so a replay gives the same one.
    An unavailable service is not an answer about this request: the key is given back so a retry can run."""
    still_ours = CheckoutAttempt.objects.filter(
        pk=claim.attempt_id, order_id=claim.order_id, state=CheckoutAttempt.State.IN_PROGRESS
    )
    if isinstance(error, RemoteServiceError):
        still_ours.delete()
    else:
        still_ours.update(state=CheckoutAttempt.State.FAILED, error=error.to_payload(), updated_at=timezone.now())


def _attempt_discard(claim: CheckoutClaim) -> None:
    CheckoutAttempt.objects.filter(
        pk=claim.attempt_id, order_id=claim.order_id, state=CheckoutAttempt.State.IN_PROGRESS
    ).delete()


def checkout_attempts_purge_expired(*, now: datetime | None = None) -> int:
    """Keys are kept for ECOMMERCE_IDEMPOTENCY_TTL_SECONDS; after that the same key starts a new checkout."""
    now = now or timezone.now()
    expired_before = now - timedelta(seconds=settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = CheckoutAttempt.objects.filter(created_at__lt=expired_before).delete()
    return deleted


# --- checkout -----------------------------------------------------------------------------------------------------

def order_checkout(*, user_id: int, address_id: int, idempotency_key: str,
                   request_fingerprint: str) -> CheckoutOutcome:
    claim = checkout_attempt_claim(
        user_id=user_id, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint
    )
    if isinstance(claim, CheckoutOutcome):
        return claim
    if claim.abandoned_order_id is not None:
        _stock_release_quietly(claim.abandoned_order_id)

    reservation_requested = False
    try:
        address = users_service.address_get(user_id=user_id, address_id=address_id)
        lines = _priced_cart_lines(user_id=user_id)
        _ensure_order_amounts_fit(lines)
        stock_lines = [StockLine(product_id=line.product_id, quantity=line.quantity) for line in lines]
        reservation_requested = True
        products_service.stock_reserve(order_id=claim.order_id, lines=stock_lines)
        order = _order_write(claim=claim, user_id=user_id, address=address, lines=lines)
    except ContractError as error:
        # InsufficientStock means nothing was reserved; any other failure after asking may have left a reservation.
        if reservation_requested and not isinstance(error, InsufficientStock):
            _stock_release_quietly(claim.order_id)
        _attempt_fail(claim, error)
        raise
    except Exception:
        if reservation_requested:
            _stock_release_quietly(claim.order_id)
        _attempt_discard(claim)
        raise

    order_checkout_finish(order=order)
    return CheckoutOutcome(order=order, replayed=False)


def _priced_cart_lines(*, user_id: int) -> list[PricedLine]:
    """The cart says what and how many; the catalog says at what price, under which sku and name, right now."""
    cart = carts_service.cart_get(user_id=user_id)
    quantities: dict[int, int] = {}
    for item in cart.items:
        quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
    if not quantities:
        raise ValidationFailed("Your cart is empty.", errors={"cart": ["Your cart is empty."]})
    products = {product.id: product for product in products_service.product_get_many(product_ids=list(quantities))}
    unavailable = [
        {"product_id": product_id, "requested": quantity, "available": 0}
        for product_id, quantity in quantities.items()
        if product_id not in products or not products[product_id].is_active
    ]
    if unavailable:
        raise InsufficientStock("Some items in your cart are no longer sold.", lines=unavailable)
    # Sorted by product id: the catalog then locks rows in one global order, whatever order the cart was filled in.
    return [
        PricedLine(product_id=product_id, sku=products[product_id].sku, name=products[product_id].name,
                   unit_price=to_money(products[product_id].effective_price), quantity=quantity)
        for product_id, quantity in sorted(quantities.items())
    ]


def _ensure_order_amounts_fit(lines: list[PricedLine]) -> None:
    """A cart of dear products in large quantities can add up to more than an order can record; it is refused
    before any stock is reserved, rather than failing in the database after."""
    subtotal = money_sum(line.line_total for line in lines)
    if subtotal + shipping_cost_for(subtotal) > MAX_AMOUNT:
        message = f"The order total would exceed {MAX_AMOUNT}; order fewer items."
        raise ValidationFailed(message, errors={"cart": [message]})


def _order_write(*, claim: CheckoutClaim, user_id: int, address: AddressDTO, lines: list[PricedLine]) -> Order:
    subtotal = money_sum(line.line_total for line in lines)
    shipping_cost = shipping_cost_for(subtotal)
    discount = ZERO  # catalog discounts are already in the line prices
    now = timezone.now()
    with transaction.atomic():
        attempt = CheckoutAttempt.objects.select_for_update().filter(
            pk=claim.attempt_id, order_id=claim.order_id, state=CheckoutAttempt.State.IN_PROGRESS
        ).first()
        if attempt is None:
            raise IdempotencyInProgress("This checkout was taken over by a newer request with the same key.")
        order = Order(
            id=claim.order_id, user_id=user_id, status=OrderStatus.PENDING,
            subtotal=subtotal, shipping_cost=shipping_cost, discount=discount,
            total=to_money(subtotal + shipping_cost - discount), currency=currency(),
            shipping_full_name=address.full_name, shipping_street=address.street, shipping_city=address.city,
            shipping_state=address.state, shipping_zip_code=address.zip_code, shipping_country=address.country,
            shipping_phone=address.phone, created_at=now,
        )
        _order_insert_with_unique_number(order, now)
        OrderLine.objects.bulk_create([
            OrderLine(order=order, product_id=line.product_id, sku=line.sku, name=line.name,
                      unit_price=line.unit_price, quantity=line.quantity, line_total=line.line_total)
            for line in lines
        ])
        OrderStatusChange.objects.create(order=order, from_status=None, to_status=OrderStatus.PENDING,
                                         actor_id=user_id, reason="checkout", created_at=now)
        record_event("order.created", order_event_data(order, list(order.lines.all())))
        attempt.state = CheckoutAttempt.State.SUCCEEDED
        attempt.updated_at = now
        attempt.save(update_fields=["state", "updated_at"])
    return selectors.order_get(order_id=order.id)


def _order_insert_with_unique_number(order: Order, now: datetime) -> None:
    """A clash of random order numbers is astronomically rare; when it happens, draw again rather than fail."""
    for draw in range(3):
        order.number = order_number_generate(now)
        try:
            with transaction.atomic():
                order.save(force_insert=True)
            return
        except IntegrityError:
            if draw == 2 or Order.objects.filter(pk=order.pk).exists():
                raise


def order_checkout_finish(*, order: Order) -> None:
    """After the order is durable: confirm the reservation (unconfirmed ones expire on their own) and take the
    ordered lines out of the cart. The order stands whatever happens here.

    Both calls are made synchronously so that the 201 answer already shows the cart emptied, and both are
    idempotent by order id; if either fails, ``confirm_checkout`` repeats them from a worker with backoff, so a
    short outage of the catalog or the carts service does not let the reservation lapse."""
    failed = False
    if order.status != OrderStatus.CANCELED:
        try:
            products_service.stock_reservation_confirm(order_id=order.id)
        except Exception:
            logger.exception("confirming the stock reservation of order %s failed; a worker retries", order.id)
            failed = True
    try:
        carts_service.cart_lines_checked_out(
            user_id=order.user_id, order_id=str(order.id),
            lines=[CartLineQuantity(product_id=line.product_id, quantity=line.quantity)
                   for line in order.lines.all()],
        )
    except Exception:
        logger.exception("removing the checked-out lines of order %s from the cart failed; a worker retries",
                         order.id)
        failed = True
    if failed:
        _enqueue("confirm_checkout", order.id)
    else:
        _followup_done(order.id, status=order.status)


def order_checkout_finish_by_id(*, order_id: uuid.UUID) -> None:
    """The worker's entry point: like ``order_checkout_finish`` but raising, so the task retries."""
    order = selectors.order_get(order_id=order_id)
    if order.status != OrderStatus.CANCELED:
        products_service.stock_reservation_confirm(order_id=order.id)
    carts_service.cart_lines_checked_out(
        user_id=order.user_id, order_id=str(order.id),
        lines=[CartLineQuantity(product_id=line.product_id, quantity=line.quantity) for line in order.lines.all()],
    )
    _followup_done(order.id, status=order.status)


# --- status machine -----------------------------------------------------------------------------------------------

def order_transition(*, order_id: uuid.UUID, to_status: str, actor_id: int | None, user_id: int | None = None,
                     reason: str = "", payment_method: str = MANUAL_PAYMENT) -> Order:
    """Move an order along a legal transition (see ``apps.orders.state``), else InvalidTransition.

    ``user_id`` scopes the change to the owner (another user's order is NotFound). Marking a pending order paid
    here is an offline payment recorded by staff: payment_status "succeeded", payment_method ``payment_method``.
    Canceling a paid order marks its payment "refunded"; the money itself is returned by the payments context,
    which is not built yet: until then a paid cancellation is a manual refund that staff carry out."""
    to_status = OrderStatus(to_status)
    with transaction.atomic():
        orders = Order.objects.select_for_update().filter(pk=order_id)
        if user_id is not None:
            orders = orders.filter(user_id=user_id)
        order = orders.first()
        if order is None:
            raise NotFound("Order not found.")
        from_status = OrderStatus(order.status)
        ensure_transition(from_status, to_status)
        order.status = to_status
        if to_status == OrderStatus.PAID and order.payment_status != PaymentStatus.SUCCEEDED:
            order.payment_status = PaymentStatus.SUCCEEDED
            order.payment_method = payment_method
        elif to_status == OrderStatus.CANCELED and from_status == OrderStatus.PAID:
            order.payment_status = PaymentStatus.REFUNDED
        if to_status in STOCK_EFFECT_FOR_STATUS:
            order.followup_pending = True
        order.save(update_fields=["status", "payment_status", "payment_method", "followup_pending", "updated_at"])
        OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=to_status,
                                         actor_id=actor_id, reason=reason)
        record_event(EVENT_FOR_STATUS[to_status], {
            **order_event_data(order, list(order.lines.all())),
            "from_status": from_status, "to_status": to_status, "actor_id": actor_id, "reason": reason,
        })
    order_stock_sync(order_id=order.id, status=to_status)
    return selectors.order_get(order_id=order.id)


def order_cancel(*, order_id: uuid.UUID, user_id: int | None, actor_id: int | None, reason: str = "") -> Order:
    """Cancel a pending or paid order and give its stock back. ``user_id`` scopes it to the owner; None is staff."""
    reason = reason or ("canceled by the customer" if user_id is not None else "canceled by staff")
    return order_transition(order_id=order_id, to_status=OrderStatus.CANCELED, actor_id=actor_id,
                            user_id=user_id, reason=reason)


def order_stock_sync(*, order_id: uuid.UUID, status: str, raise_errors: bool = False) -> None:
    """Tell the catalog what the order's (committed) status means for its reservation. Idempotent by order id;
    on failure a worker retries (``sync_order_stock``)."""
    effect = STOCK_EFFECT_FOR_STATUS.get(OrderStatus(status))
    if effect is None:
        return
    try:
        if effect == StockEffect.RELEASE:
            products_service.stock_release(order_id=order_id)
        else:
            products_service.stock_commit(order_id=order_id)
        _followup_done(order_id, status=status)
    except Exception:
        if raise_errors:
            raise
        logger.exception("stock %s for order %s failed; a worker retries", effect, order_id)
        _enqueue("sync_order_stock", order_id)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel pending orders older than ECOMMERCE_ORDER_TTL_MINUTES (reason "expired") and release their stock.
    An order paid or canceled meanwhile is skipped: the transition re-checks the status under the row lock."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES)
    expired_ids = list(
        Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at").values_list("id", flat=True)[:EXPIRY_BATCH_SIZE]
    )
    canceled = 0
    for order_id in expired_ids:
        try:
            order_transition(order_id=order_id, to_status=OrderStatus.CANCELED, actor_id=None, reason="expired")
        except (InvalidTransition, NotFound):
            continue
        canceled += 1
    return canceled


def orders_followups_resume(*, now: datetime | None = None) -> int:
    """Redo the after-commit work of orders whose process died (or whose calls failed) before it was done.

    Every step is idempotent by order id, so doing it twice is harmless; waiting ``FOLLOWUP_GRACE_SECONDS`` only
    keeps the sweep from racing requests that are finishing their own work right now. Returns how many orders
    were brought up to date."""
    now = now or timezone.now()
    owed = list(
        Order.objects.filter(followup_pending=True, updated_at__lt=now - timedelta(seconds=FOLLOWUP_GRACE_SECONDS))
        .order_by("updated_at").values_list("id", "status")[:EXPIRY_BATCH_SIZE]
    )
    resumed = 0
    for order_id, status in owed:
        try:
            if status in STOCK_EFFECT_FOR_STATUS:
                order_stock_sync(order_id=order_id, status=status, raise_errors=True)
            else:
                order_checkout_finish_by_id(order_id=order_id)
        except Exception:
            logger.exception("follow-up work of order %s failed again; the next sweep retries", order_id)
            continue
        resumed += 1
    return resumed


def _followup_done(order_id: uuid.UUID, *, status: str) -> None:
    """Only for the status the work was done for: a transition committed meanwhile owes its own work."""
    Order.objects.filter(pk=order_id, status=status, followup_pending=True).update(followup_pending=False)


# --- helpers ------------------------------------------------------------------------------------------------------

def order_event_data(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    return {
        "order_id": order.id, "number": order.number, "user_id": order.user_id, "status": order.status,
        "subtotal": order.subtotal, "shipping_cost": order.shipping_cost, "discount": order.discount,
        "total": order.total, "currency": order.currency, "payment_status": order.payment_status,
        "lines": [
            {"product_id": line.product_id, "sku": line.sku, "name": line.name, "unit_price": line.unit_price,
             "quantity": line.quantity, "line_total": line.line_total}
            for line in lines
        ],
    }


def _stock_release_quietly(order_id: uuid.UUID) -> None:
    """Compensation: never hides the error that made it necessary. If the catalog cannot be reached, the
    reservation was never confirmed and expires on its own."""
    try:
        products_service.stock_release(order_id=order_id)
    except Exception:
        logger.exception("releasing the reservation of order %s failed; it expires unconfirmed", order_id)


def _enqueue(task_name: str, order_id: uuid.UUID) -> None:
    from apps.orders import tasks  # the tasks module imports this one

    try:
        getattr(tasks, task_name).apply_async(args=[str(order_id)], countdown=10)
    except Exception:
        # Without a broker (eager mode) the task ran here and failed again; its retries are exhausted.
        logger.exception("could not schedule %s for order %s", task_name, order_id)
