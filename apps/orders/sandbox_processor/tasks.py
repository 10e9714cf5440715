"""The processor's workers: the first delivery attempt of each webhook event, and the retries (beat, every few
seconds). In a split deployment they run in the orders role's worker, which holds the processor's tables."""

from __future__ import annotations

from celery import shared_task

from apps.orders.sandbox_processor import delivery


@shared_task(name="apps.orders.sandbox_processor.tasks.deliver_webhook")
def deliver_webhook(event_id: str) -> bool:
    return delivery.webhook_deliver(event_id)


@shared_task(name="apps.orders.sandbox_processor.tasks.deliver_due_webhooks")
def deliver_due_webhooks() -> int:
    return delivery.webhooks_deliver_due()
