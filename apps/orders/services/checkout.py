"""Checkout: an order made from the user's cart in one straight pass.

The saga, never one transaction across contexts (a remote service cannot join ours), each step keyed by the order id
chosen when the idempotency key was claimed:

1. ``users.checkout_recipient``: the customer's e-mail and the shipping address, both copied into the order. The
   address is the saved one named, or the one given inline, checked as the address endpoints check it (and saved
   as the user's when ``save``).
2. ``carts.cart_claim``: the cart's lines (and voucher code) move into a claim for this order, so the cart is checked
   out at most once.
3. ``products.product_lines_price``: sku, name and today's effective price of those lines, in one call. Then, locally:
   the voucher is checked (orders owns vouchers) and, when the shopper sent ``expected_total``, the total compared
   with it: a difference is PriceChanged naming the lines whose price moved since they were added, before anything
   is reserved.
4. ``products.stock_reserve``: the same lines reserved, all or nothing.
5. One local transaction: the voucher's use taken, the order, its lines, its history row, its ``order.created``
   event and the stored answer.
6. After commit, once the answer has been sent (``ecommerce.after_response``): confirm the reservation and complete
   the claim (``followups``); the order stands whatever happens there, and the durable ``followup_pending`` flag
   makes the follow-up sweep redo what failed or never ran.

That is at most six contract calls, none made from inside another contract's implementation. Pricing and reserving
are two calls with one line type on purpose: the order total is checked against what an order can hold before any
stock is taken, and the reservation stays the single writer of stock. A failure gives back whatever this checkout
(or the dead attempt it took over) may hold: the claim goes back to the cart and the reservation to the catalog;
a process that dies before doing so leaves an unconfirmed reservation and an open claim, which expire on their own.

The open-order cap (``ECOMMERCE_MAX_OPEN_ORDERS_PER_USER``) is checked before anything is claimed or reserved, so
a user at the cap is refused at the cost of one query. It is checked again inside the order's transaction, where
one user's order writes run one after the other, so checkouts racing past the first check cannot overrun it (the
loser gives back what it took, like any failed checkout). With no cap (``0``) neither costs a statement.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.orders.dto import order_to_dto
from apps.orders.events import order_event_data
from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.orders.services.followups import order_followups_run
from apps.orders.services.idempotency import (
    CheckoutClaim,
    checkout_attempt_claim,
    checkout_attempt_discard,
    checkout_attempt_fail,
    checkout_attempt_succeed,
)
from apps.orders.services.vouchers import voucher_precheck, voucher_redemption_record, voucher_take_locked
from ecommerce.after_response import after_response
from ecommerce.contracts.carts import CartLineDTO, carts_service
from ecommerce.contracts.orders import CheckoutResult, OrderDTO, OrderStatus, ShippingAddressInput
from ecommerce.contracts.products import PricedLine, StockLine, products_service
from ecommerce.contracts.users import AddressInput, CheckoutRecipient, users_service
from ecommerce.errors import ContractError, PriceChanged, RemoteServiceError, TooManyOpenOrders, ValidationFailed
from ecommerce.events.outbox import record_event
from ecommerce.money import MAX_AMOUNT, ZERO, currency, money_sum, to_money

logger = logging.getLogger(__name__)

_ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I/L to misread on the phone
# Namespace of the per-user advisory lock that orders one user's order writes (PostgreSQL).
_ORDER_WRITE_LOCK_NAMESPACE = 0x0D0E


def order_number_generate(now: datetime) -> str:
    """Human-readable and unique in practice (32^8 per day); the unique index is the backstop."""
    suffix = "".join(secrets.choice(_ORDER_NUMBER_ALPHABET) for _ in range(8))
    return f"ORD-{now:%Y%m%d}-{suffix}"


def shipping_cost_for(subtotal: Decimal) -> Decimal:
    if subtotal >= to_money(settings.ECOMMERCE_FREE_SHIPPING_FROM):
        return ZERO
    return to_money(settings.ECOMMERCE_SHIPPING_FLAT)


def line_total(line: PricedLine) -> Decimal:
    return to_money(line.unit_price * line.quantity)


@dataclass
class _Holdings:
    """Order ids whose cart claim or stock reservation this checkout may hold in another context: its own, and the
    dead attempt's it took over. "May": a call that failed on the way may still have done its work, and every
    release is idempotent, so giving back too much is harmless and giving back too little is not."""

    cart_claims: set[uuid.UUID] = field(default_factory=set)
    reservations: set[uuid.UUID] = field(default_factory=set)

    @classmethod
    def taking_over(cls, abandoned_order_id: uuid.UUID | None) -> _Holdings:
        abandoned = {abandoned_order_id} if abandoned_order_id is not None else set()
        return cls(cart_claims=set(abandoned), reservations=set(abandoned))

    @contextmanager
    def asking(self, held: set[uuid.UUID], *, order_id: uuid.UUID, replaces: uuid.UUID | None) -> Iterator[None]:
        held.add(order_id)
        try:
            yield
        except ContractError as error:
            if not isinstance(error, RemoteServiceError):
                held.discard(order_id)  # a definite refusal: the call changed nothing, the replaced one included
            raise
        if replaces is not None:
            held.discard(replaces)  # taken over in the same transaction as ours

    def give_back(self) -> None:
        for order_id in self.reservations:
            _quietly(products_service.stock_release, order_id)
        for order_id in self.cart_claims:
            _quietly(carts_service.cart_claim_release, order_id)


def _quietly(release: Callable[..., None], order_id: uuid.UUID) -> None:
    """Compensation never hides the error that made it necessary; what it cannot give back expires on its own."""
    try:
        release(order_id=order_id)
    except Exception:
        logger.exception("giving back what order %s held failed; it expires on its own", order_id)


def order_checkout(*, user_id: int, address_id: int | None = None, idempotency_key: str,
                   request_fingerprint: str, shipping_address: ShippingAddressInput | None = None,
                   expected_total: Decimal | None = None) -> CheckoutResult:
    claim = checkout_attempt_claim(
        user_id=user_id, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint
    )
    if isinstance(claim, CheckoutResult):
        return claim

    replaced = claim.abandoned_order_id
    holdings = _Holdings.taking_over(replaced)
    try:
        _ensure_open_orders_below_cap(user_id=user_id)
        recipient = _recipient(user_id=user_id, address_id=address_id, inline=shipping_address)
        with holdings.asking(holdings.cart_claims, order_id=claim.order_id, replaces=replaced):
            cart = carts_service.cart_claim(user_id=user_id, order_id=claim.order_id, replaces_order_id=replaced)
        lines = [StockLine(product_id=line.product_id, quantity=line.quantity) for line in cart.lines]
        priced = products_service.product_lines_price(lines=lines)
        amounts = _amounts(priced, user_id=user_id, voucher_code=cart.voucher_code)
        _ensure_order_amounts_fit(amounts)
        if expected_total is not None:
            _ensure_total_as_expected(expected_total, amounts=amounts, claimed=cart.lines, priced=priced)
        with holdings.asking(holdings.reservations, order_id=claim.order_id, replaces=replaced):
            products_service.stock_reserve(order_id=claim.order_id, lines=lines, replaces_order_id=replaced)
        answer = _order_write(claim=claim, user_id=user_id, recipient=recipient, lines=priced,
                              voucher_code=cart.voucher_code)
    except ContractError as error:
        holdings.give_back()
        checkout_attempt_fail(claim, error)
        raise
    except Exception:
        holdings.give_back()
        checkout_attempt_discard(claim)
        raise

    # The answer does not wait for the follow-ups: the order is durable and flagged, and the sweep redoes them if
    # this process dies first. The claimed cart is already empty and the reservation already counts against stock.
    after_response(partial(order_followups_run, order_id=answer.id, status=OrderStatus.PENDING))
    return CheckoutResult(order=answer, replayed=False)


def _ensure_open_orders_below_cap(*, user_id: int) -> None:
    limit = settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER
    if limit and Order.objects.filter(user_id=user_id, status=OrderStatus.PENDING).count() >= limit:
        raise TooManyOpenOrders(
            f"You may hold at most {limit} unpaid orders at a time: pay or cancel one before checking out again.",
            limit=limit,
        )


def _order_writes_of_one_user_in_turn(user_id: int) -> None:
    """Inside a transaction: another transaction of the same user waits here until this one ends, so what it counts
    afterwards includes this one's order. PostgreSQL: a transaction-scoped advisory lock (a user id beyond 31 bits
    shares its lock with another user, which only makes them wait); SQLite writes one transaction at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ORDER_WRITE_LOCK_NAMESPACE, user_id % 2**31])


def _recipient(*, user_id: int, address_id: int | None, inline: ShippingAddressInput | None) -> CheckoutRecipient:
    """One users call: the customer's e-mail and the saved address, or the inline one checked (and saved when asked)
    by the users context, whose field errors are named under ``shipping_address``. An address saved here stays saved
    even if the checkout fails afterwards: the shopper asked for it to be kept."""
    if inline is None:
        if address_id is None:
            message = "Give an address_id or a shipping_address."
            raise ValidationFailed(message, errors={"address_id": [message]})
        return users_service.checkout_recipient(user_id=user_id, address_id=address_id)
    given = AddressInput(**inline.model_dump(exclude={"save"}))
    try:
        return users_service.checkout_recipient(user_id=user_id, address=given, save=inline.save)
    except ValidationFailed as error:
        raise ValidationFailed(error.detail, errors={
            f"shipping_address.{field}": messages for field, messages in error.errors.items()}) from error


@dataclass(frozen=True)
class _Amounts:
    subtotal: Decimal
    discount: Decimal
    shipping_cost: Decimal

    @property
    def goods_total(self) -> Decimal:
        """What the cart shows as its total, and what ``expected_total`` is compared with."""
        return to_money(self.subtotal - self.discount)

    @property
    def total(self) -> Decimal:
        return to_money(self.subtotal + self.shipping_cost - self.discount)


def _amounts(lines: list[PricedLine], *, user_id: int, voucher_code: str | None) -> _Amounts:
    """Shipping is charged on the subtotal before the voucher: a voucher takes money off the goods only."""
    subtotal = money_sum(line_total(line) for line in lines)
    discount = voucher_precheck(code=voucher_code, user_id=user_id, subtotal=subtotal) if voucher_code else ZERO
    return _Amounts(subtotal=subtotal, discount=discount, shipping_cost=shipping_cost_for(subtotal))


def _ensure_order_amounts_fit(amounts: _Amounts) -> None:
    """A cart of dear products in large quantities can add up to more than an order can record; it is refused
    before any stock is reserved, rather than failing in the database after."""
    if amounts.subtotal + amounts.shipping_cost > MAX_AMOUNT:
        message = f"The order total would exceed {MAX_AMOUNT}; order fewer items."
        raise ValidationFailed(message, errors={"cart": [message]})


def _ensure_total_as_expected(expected_total: Decimal, *, amounts: _Amounts, claimed: list[CartLineDTO],
                              priced: list[PricedLine]) -> None:
    if to_money(expected_total) == amounts.goods_total:
        return
    seen = {line.product_id: line.added_unit_price for line in claimed}
    changed = [
        {"product_id": line.product_id, "old_unit_price": str(to_money(seen[line.product_id])),
         "new_unit_price": str(to_money(line.unit_price))}
        for line in priced
        if seen.get(line.product_id) is not None and to_money(seen[line.product_id]) != to_money(line.unit_price)
    ]
    raise PriceChanged(
        f"The cart's total is now {amounts.goods_total}, not {to_money(expected_total)}; nothing was ordered. "
        "Look at the cart again and confirm the new total.",
        lines=changed,
    )


def _order_write(*, claim: CheckoutClaim, user_id: int, recipient: CheckoutRecipient, lines: list[PricedLine],
                 voucher_code: str | None) -> OrderDTO:
    """The voucher's use, the order, its lines, its history, its event and the stored answer: one transaction, a
    fixed number of statements whatever the number of lines. Returns the answer exactly as it is stored for
    replays. A clash of random order numbers is astronomically rare; when it happens, the transaction (which holds
    nothing another context gave) is run again with a new number rather than guarding every insert with a
    savepoint."""
    draws_left = 3
    while True:
        try:
            return _order_transaction(claim=claim, user_id=user_id, recipient=recipient, lines=lines,
                                      voucher_code=voucher_code)
        except IntegrityError:
            draws_left -= 1
            if not draws_left or Order.objects.filter(pk=claim.order_id).exists():
                raise


def _order_transaction(*, claim: CheckoutClaim, user_id: int, recipient: CheckoutRecipient, lines: list[PricedLine],
                       voucher_code: str | None) -> OrderDTO:
    subtotal = money_sum(line_total(line) for line in lines)
    shipping_cost = shipping_cost_for(subtotal)
    now = timezone.now()
    address = recipient.address
    with transaction.atomic():
        if settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER:
            _order_writes_of_one_user_in_turn(user_id)
            _ensure_open_orders_below_cap(user_id=user_id)
        # Catalog discounts are already in the line prices; the voucher's is taken here, under the count's guard.
        taken = voucher_take_locked(code=voucher_code, user_id=user_id, subtotal=subtotal) if voucher_code else None
        discount = taken.discount if taken else ZERO
        order = Order(
            id=claim.order_id, number=order_number_generate(now), user_id=user_id, customer_email=recipient.email,
            status=OrderStatus.PENDING, subtotal=subtotal, shipping_cost=shipping_cost, discount=discount,
            total=to_money(subtotal + shipping_cost - discount), currency=currency(),
            shipping_full_name=address.full_name, shipping_street=address.street, shipping_city=address.city,
            shipping_state=address.state, shipping_zip_code=address.zip_code, shipping_country=address.country,
            shipping_phone=address.phone, created_at=now,
        )
        order.save(force_insert=True)
        order_lines = OrderLine.objects.bulk_create([
            OrderLine(order=order, product_id=line.product_id, sku=line.sku, name=line.name,
                      unit_price=line.unit_price, quantity=line.quantity, line_total=line_total(line))
            for line in lines
        ])
        if taken is not None:
            voucher_redemption_record(taken, order=order)
        OrderStatusChange.objects.create(order=order, from_status=None, to_status=OrderStatus.PENDING,
                                         actor_id=user_id, reason="checkout", created_at=now)
        record_event("order.created", order_event_data(order, order_lines))
        answer = order_to_dto(order, order_lines)
        # Last: it proves the attempt is still this request's (else all of the above rolls back).
        checkout_attempt_succeed(claim, answer=answer)
    return answer
