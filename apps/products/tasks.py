"""Background jobs of the products context. A checkout reserves stock before it writes its order; if it dies in
between, nobody would ever release that stock, so unconfirmed reservations expire here."""

from __future__ import annotations

from celery import shared_task

from apps.products.services.stock import STALE_RESERVATION_AGE, stock_release_stale


@shared_task(name="apps.products.tasks.release_stale_reservations")
def release_stale_reservations() -> int:
    """Release reservations still reserved, unconfirmed and older than 10 minutes; returns how many orders."""
    return stock_release_stale(older_than=STALE_RESERVATION_AGE)
