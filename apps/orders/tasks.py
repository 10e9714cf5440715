"""Background work of the orders context. Every task is idempotent (keyed by order id, or a sweep), so a
redelivered message does no harm."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task

from apps.orders import selectors, services
from ecommerce.contracts.orders import orders_service

RETRY_OPTIONS = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 600, "max_retries": 10}


@shared_task(name="apps.orders.tasks.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Beat runs this every minute (CELERY_BEAT_SCHEDULE). Through the contract, so it also works from a worker
    that does not own the orders database."""
    return orders_service.orders_expire_unpaid()


@shared_task(name="apps.orders.tasks.confirm_checkout", **RETRY_OPTIONS)
def confirm_checkout(order_id: str) -> None:
    """Finish a checkout whose after-commit steps failed: confirm the reservation and clear the cart lines."""
    services.order_checkout_finish_by_id(order_id=UUID(order_id))


@shared_task(name="apps.orders.tasks.sync_order_stock", **RETRY_OPTIONS)
def sync_order_stock(order_id: str) -> None:
    """Repeat the stock effect an order's status calls for (release when canceled, commit once shipped)."""
    order = selectors.order_get(order_id=UUID(order_id))
    services.order_stock_sync(order_id=order.id, status=order.status, raise_errors=True)


@shared_task(name="apps.orders.tasks.resume_order_followups")
def resume_order_followups() -> int:
    """Beat runs this every minute: after-commit work a crashed process left undone is redone (idempotently)."""
    return services.orders_followups_resume()


@shared_task(name="apps.orders.tasks.purge_expired_checkout_attempts")
def purge_expired_checkout_attempts() -> int:
    """Idempotency keys live ECOMMERCE_IDEMPOTENCY_TTL_SECONDS; schedule hourly."""
    return services.checkout_attempts_purge_expired()
