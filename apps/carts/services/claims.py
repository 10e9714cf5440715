"""Checkout claims: a cart is checked out at most once.

Rules guarded here:
- Claiming moves every line of the cart into a claim keyed by the order id, in one transaction under the cart's row
  lock. The cart is empty at once: a second checkout of it (another tab, a double click with a fresh idempotency
  key) finds nothing to take, and lines the shopper adds meanwhile belong to the cart, not to the claim.
- Every call is idempotent by order id, because the orders saga and the RPC transport may repeat it: claiming again
  returns the same lines, releasing or completing a claim that is not open changes nothing.
- A released claim's lines go back into the cart, merged with what was added meanwhile and capped at the per-line
  maximum; a claim whose checkout died is released by ``cart_claims_release_stale`` after ``CLAIM_TIMEOUT``.
- Locks are always taken cart row first, claim row second, so a release never deadlocks with a claim.
- The number of statements does not depend on the number of lines (bulk inserts, updates and deletes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.carts.models import Cart, CartClaim, CartClaimLine, CartItem, ClaimStatus
from apps.carts.services.lines import MAX_LINE_QUANTITY
from ecommerce.errors import CartCheckoutInProgress, Conflict, ValidationFailed

# A checkout takes well under a second; a claim still open after this belongs to one that died.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Settled claims are kept this long (for support and for a late duplicate claim call), then purged.
SETTLED_CLAIM_RETENTION = timedelta(days=7)
SWEEP_BATCH_SIZE = 500


@dataclass(frozen=True)
class ClaimedCart:
    claim: CartClaim
    lines: list[CartClaimLine]


def _cart_empty() -> ValidationFailed:
    message = "Your cart is empty."
    return ValidationFailed(message, errors={"cart": [message]})


def cart_claim(*, user_id: int, order_id: UUID, replaces_order_id: UUID | None = None) -> ClaimedCart:
    """Take every line of the user's cart for ``order_id``; see the module rules."""
    with transaction.atomic():
        cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
        existing = CartClaim.objects.filter(order_id=order_id).first()
        if existing is not None:
            return _existing_claim(existing, cart=cart)
        if cart is None:
            raise _cart_empty()
        if replaces_order_id is not None:
            _release_locked(cart, replaces_order_id)
        items = list(CartItem.objects.filter(cart=cart).order_by("product_id"))
        if not items:
            if CartClaim.objects.filter(cart=cart, status=ClaimStatus.OPEN).exists():
                raise CartCheckoutInProgress(
                    "Another checkout of this cart is still running: it either makes its order or puts the lines "
                    "back into the cart."
                )
            raise _cart_empty()
        # The voucher goes with the lines: the order redeems it, or a release gives it back.
        claim = CartClaim.objects.create(order_id=order_id, cart=cart, voucher_code=cart.voucher_code)
        lines = CartClaimLine.objects.bulk_create([
            CartClaimLine(claim=claim, product_id=item.product_id, quantity=item.quantity, added_at=item.added_at,
                          added_unit_price=item.added_unit_price)
            for item in items
        ])
        CartItem.objects.filter(pk__in=[item.pk for item in items]).delete()
        cart.voucher_code = ""
        cart.save(update_fields=["voucher_code", "updated_at"])
    return ClaimedCart(claim=claim, lines=lines)


def _existing_claim(claim: CartClaim, *, cart: Cart | None) -> ClaimedCart:
    """The same order asking again (a retried call) gets the same lines while its claim is open."""
    if cart is None or claim.cart_id != cart.pk:
        raise Conflict(f"Order {claim.order_id} has already claimed another cart.")
    if claim.status != ClaimStatus.OPEN:
        raise Conflict(f"The claim of order {claim.order_id} is already {claim.status}.")
    return ClaimedCart(claim=claim, lines=list(claim.lines.order_by("product_id")))


def cart_claim_release(*, order_id: UUID) -> bool:
    """Give the claimed lines back to the cart. Returns whether there was an open claim to release."""
    with transaction.atomic():
        cart_id = CartClaim.objects.filter(order_id=order_id, status=ClaimStatus.OPEN).values_list(
            "cart_id", flat=True).first()
        if cart_id is None:
            return False
        cart = Cart.objects.select_for_update().get(pk=cart_id)
        return _release_locked(cart, order_id)


def _release_locked(cart: Cart, order_id: UUID) -> bool:
    """The caller holds the cart's row lock."""
    claim = CartClaim.objects.select_for_update().filter(
        order_id=order_id, cart=cart, status=ClaimStatus.OPEN).first()
    if claim is None:
        return False
    claimed = list(CartClaimLine.objects.filter(claim=claim))
    in_cart = {item.product_id: item for item in CartItem.objects.filter(
        cart=cart, product_id__in=[line.product_id for line in claimed])}
    merged: list[CartItem] = []
    restored: list[CartItem] = []
    for line in claimed:
        item = in_cart.get(line.product_id)
        if item is None:
            restored.append(CartItem(cart=cart, product_id=line.product_id,
                                     quantity=min(line.quantity, MAX_LINE_QUANTITY), added_at=line.added_at,
                                     added_unit_price=line.added_unit_price))
        else:
            item.quantity = min(item.quantity + line.quantity, MAX_LINE_QUANTITY)
            if line.added_at < item.added_at:
                item.added_at, item.added_unit_price = line.added_at, line.added_unit_price
            merged.append(item)
    if merged:
        CartItem.objects.bulk_update(merged, ["quantity", "added_at", "added_unit_price"])
    if restored:
        CartItem.objects.bulk_create(restored)
    CartClaimLine.objects.filter(claim=claim).delete()
    claim.status = ClaimStatus.RELEASED
    claim.settled_at = timezone.now()
    claim.save(update_fields=["status", "settled_at"])
    if claim.voucher_code and not cart.voucher_code:
        cart.voucher_code = claim.voucher_code
    cart.save(update_fields=["voucher_code", "updated_at"])
    return True


def cart_claim_complete(*, order_id: UUID) -> bool:
    """The order exists: the claim is done and its lines are dropped (the order has them). Returns whether there
    was an open claim to complete."""
    with transaction.atomic():
        # Conditional on the claim still being open: of a completion and a release racing, exactly one applies.
        completed = CartClaim.objects.filter(order_id=order_id, status=ClaimStatus.OPEN).update(
            status=ClaimStatus.COMPLETED, settled_at=timezone.now())
        if completed:
            CartClaimLine.objects.filter(claim__order_id=order_id).delete()
    return bool(completed)


def cart_claims_release_stale(*, now: datetime | None = None) -> int:
    """Release claims still open after CLAIM_TIMEOUT: their checkout died before making its order (an order that
    was made completes its claim, from the request or from the orders follow-up sweep). Returns how many."""
    cutoff = (now or timezone.now()) - CLAIM_TIMEOUT
    stale = list(
        CartClaim.objects.filter(status=ClaimStatus.OPEN, created_at__lt=cutoff)
        .order_by("created_at").values_list("order_id", flat=True)[:SWEEP_BATCH_SIZE]
    )
    # Each is re-checked under lock, so one completed meanwhile is left alone.
    return sum(1 for order_id in stale if cart_claim_release(order_id=order_id))


def cart_claims_purge_settled(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - SETTLED_CLAIM_RETENTION
    _, deleted = CartClaim.objects.exclude(status=ClaimStatus.OPEN).filter(settled_at__lt=cutoff).delete()
    return deleted.get(CartClaim._meta.label, 0)
