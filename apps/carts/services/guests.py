"""Guest carts: made for a shopper who has not signed in, merged into the user's cart when they do.

Rules guarded here:
- The merge happens once. It locks the guest cart's row, moves its lines and deletes it in one transaction; a
  second sign-in racing the first waits on that lock, then finds no guest cart and merges nothing. So two racing
  logins cannot add the guest's quantities twice.
- Merged quantities are added to the user's lines and capped at what the catalog has available (the caller's
  figures) and at the per-line maximum; every capped line is reported, so the shopper is told, not surprised.
- Locks are taken guest cart first, user cart second, always in that order.
- Expired guest carts (see ``owners``) are deleted by ``guest_carts_purge``, in batches.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from apps.carts.models import Cart, CartItem
from apps.carts.services.lines import MAX_LINE_QUANTITY
from apps.carts.services.owners import CartOwner, guest_carts_expired_before, guest_token_hash

QUANTITY_CAPPED = "quantity_capped"
PURGE_BATCH_SIZE = 500


@dataclass(frozen=True)
class CappedLine:
    product_id: int
    requested: int
    kept: int


@dataclass(frozen=True)
class MergedCart:
    cart: Cart
    capped: list[CappedLine]


def guest_cart_create() -> str:
    """A new, empty guest cart; returns its token, which is not stored (only its hash)."""
    token = secrets.token_urlsafe(32)
    Cart.objects.create(guest_token_hash=guest_token_hash(token))
    return token


def guest_cart_merge(*, guest_token: str, user_id: int, available: dict[int, int],
                     unit_prices: dict[int, Decimal]) -> MergedCart:
    with transaction.atomic():
        guest = CartOwner(guest_token=guest_token).carts().select_for_update().first()
        user_cart = CartOwner(user_id=user_id).locked(create=True)
        if guest is None:
            return MergedCart(cart=user_cart, capped=[])
        capped = _merge_lines_locked(guest=guest, into=user_cart, available=available, unit_prices=unit_prices)
        if guest.voucher_code and not user_cart.voucher_code:
            user_cart.voucher_code = guest.voucher_code
        guest.delete()
        user_cart.save(update_fields=["voucher_code", "updated_at"])
    return MergedCart(cart=user_cart, capped=capped)


def _merge_lines_locked(*, guest: Cart, into: Cart, available: dict[int, int],
                        unit_prices: dict[int, Decimal]) -> list[CappedLine]:
    guest_lines = list(CartItem.objects.filter(cart=guest).order_by("added_at", "id"))
    existing = {item.product_id: item for item in CartItem.objects.filter(
        cart=into, product_id__in=[line.product_id for line in guest_lines])}
    capped: list[CappedLine] = []
    updated: list[CartItem] = []
    created: list[CartItem] = []
    for line in guest_lines:
        item = existing.get(line.product_id)
        requested = line.quantity + (item.quantity if item else 0)
        kept = min(requested, available.get(line.product_id, 0), MAX_LINE_QUANTITY)
        if kept < requested:
            capped.append(CappedLine(product_id=line.product_id, requested=requested, kept=kept))
        price = unit_prices.get(line.product_id, line.added_unit_price)
        if item is not None:
            # Re-priced: the shopper sees today's price as the one the merged line was taken at.
            item.quantity, item.added_unit_price = kept, price
            updated.append(item)
        elif kept > 0:
            created.append(CartItem(cart=into, product_id=line.product_id, quantity=kept, added_at=line.added_at,
                                    added_unit_price=price))
    zeroed = [item.pk for item in updated if item.quantity == 0]
    if zeroed:
        CartItem.objects.filter(pk__in=zeroed).delete()
    kept_items = [item for item in updated if item.quantity > 0]
    if kept_items:
        CartItem.objects.bulk_update(kept_items, ["quantity", "added_unit_price"])
    if created:
        CartItem.objects.bulk_create(created)
    return capped


def guest_carts_purge(*, now: datetime | None = None) -> int:
    """Delete guest carts unchanged for longer than their lifetime; returns how many (one batch)."""
    cutoff = guest_carts_expired_before(now)
    expired = list(Cart.objects.filter(guest_token_hash__isnull=False, updated_at__lt=cutoff)
                   .order_by("updated_at").values_list("pk", flat=True)[:PURGE_BATCH_SIZE])
    if not expired:
        return 0
    _, deleted = Cart.objects.filter(pk__in=expired, updated_at__lt=cutoff).delete()
    return deleted.get(Cart._meta.label, 0)
