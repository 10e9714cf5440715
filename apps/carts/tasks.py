"""Background jobs of the carts context. A checkout claims a cart before it writes its order; if it dies in between,
nobody would ever give the lines back, so claims left open expire here (like the catalog's stale reservations).
Guest carts nobody came back to are deleted here too."""

from __future__ import annotations

from celery import shared_task

from apps.carts.services import cart_claims_purge_settled, cart_claims_release_stale, guest_carts_purge


@shared_task(name="apps.carts.tasks.release_stale_claims")
def release_stale_claims() -> int:
    """Beat runs this every minute: open claims older than CLAIM_TIMEOUT go back into their carts."""
    return cart_claims_release_stale()


@shared_task(name="apps.carts.tasks.purge_settled_claims")
def purge_settled_claims() -> int:
    """Beat runs this hourly: settled claims older than SETTLED_CLAIM_RETENTION are deleted."""
    return cart_claims_purge_settled()


@shared_task(name="apps.carts.tasks.purge_expired_guest_carts")
def purge_expired_guest_carts() -> int:
    """Beat runs this hourly: guest carts unchanged for ECOMMERCE_GUEST_CART_TTL_HOURS are deleted."""
    return guest_carts_purge()
