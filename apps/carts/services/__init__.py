"""Writes of the carts context, one module per idea:

- ``lines``: a cart's lines (add, set a quantity, remove, clear), checked against the quantity the caller says is
  available and the per-line range, under the cart's row lock;
- ``owners``: whose cart a call means (a user's, or a guest's by token) and when a guest cart has expired;
- ``guests``: guest carts, their merge into the user's cart at sign-in, and the purge of expired ones;
- ``claims``: checkout claims, which take a cart's lines for one order so that a cart is checked out at most once.

Carts calls no other context: it is a leaf. Code that monkeypatches a helper must patch the module that looks the
name up (e.g. ``services.claims``).
"""

from apps.carts.services.claims import (
    CLAIM_TIMEOUT,
    SETTLED_CLAIM_RETENTION,
    ClaimedCart,
    cart_claim,
    cart_claim_complete,
    cart_claim_release,
    cart_claims_purge_settled,
    cart_claims_release_stale,
)
from apps.carts.services.guests import (
    QUANTITY_CAPPED,
    CappedLine,
    MergedCart,
    guest_cart_create,
    guest_cart_merge,
    guest_carts_purge,
)
from apps.carts.services.lines import (
    MAX_LINE_QUANTITY,
    cart_clear,
    cart_get_or_create,
    cart_item_add,
    cart_item_remove,
    cart_item_set_quantity,
    cart_voucher_set,
)

__all__ = [
    "CLAIM_TIMEOUT",
    "MAX_LINE_QUANTITY",
    "QUANTITY_CAPPED",
    "SETTLED_CLAIM_RETENTION",
    "CappedLine",
    "ClaimedCart",
    "MergedCart",
    "cart_claim",
    "cart_claim_complete",
    "cart_claim_release",
    "cart_claims_purge_settled",
    "cart_claims_release_stale",
    "cart_clear",
    "cart_get_or_create",
    "cart_item_add",
    "cart_item_remove",
    "cart_item_set_quantity",
    "cart_voucher_set",
    "guest_cart_create",
    "guest_cart_merge",
    "guest_carts_purge",
]
