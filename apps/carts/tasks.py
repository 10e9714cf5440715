"""Background jobs of the carts context. A checkout claims a cart before it writes its order; if it dies in between,
nobody would ever give the lines back, so claims left open expire here (like the catalog's stale reservations)."""

from __future__ import annotations

from celery import shared_task

from apps.carts.services import cart_claims_purge_settled, cart_claims_release_stale


@shared_task(name="apps.carts.tasks.release_stale_claims")
def release_stale_claims() -> int:
    """Beat runs this every minute: open claims older than CLAIM_TIMEOUT go back into their carts."""
    return cart_claims_release_stale()


@shared_task(name="apps.carts.tasks.purge_settled_claims")
def purge_settled_claims() -> int:
    """Beat runs this hourly: settled claims older than SETTLED_CLAIM_RETENTION are deleted."""
    return cart_claims_purge_settled()
