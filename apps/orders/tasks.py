"""Background work of the orders context. Every task is a sweep, idempotent by construction, so a redelivered message
does no harm; the services never schedule tasks themselves (after-commit work that fails is left to
``resume_order_followups``)."""

from __future__ import annotations

from celery import shared_task

from apps.orders import services
from ecommerce.contracts.orders import orders_service


@shared_task(name="apps.orders.tasks.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Beat runs this every minute (CELERY_BEAT_SCHEDULE). Through the contract, so it also works from a worker
    that does not own the orders database."""
    return orders_service.orders_expire_unpaid()


@shared_task(name="apps.orders.tasks.resume_order_followups")
def resume_order_followups() -> int:
    """Beat runs this every minute: after-commit work a failed call or a crashed process left undone is redone."""
    return services.orders_followups_resume()


@shared_task(name="apps.orders.tasks.purge_expired_checkout_attempts")
def purge_expired_checkout_attempts() -> int:
    """Idempotency keys (of checkouts and of payments) live ECOMMERCE_IDEMPOTENCY_TTL_SECONDS; schedule hourly."""
    return services.checkout_attempts_purge_expired() + services.payment_attempts_purge_expired()
