"""Background jobs of event delivery, scheduled by beat (or, without a broker, by the in-process scheduler)."""

from celery import shared_task

from ecommerce.events.outbox import events_purge_old
from ecommerce.events.relay import relay_outbox as relay_pending_events


@shared_task(name="ecommerce.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return relay_pending_events()


@shared_task(name="ecommerce.events.tasks.purge_old_events", ignore_result=True)
def purge_old_events() -> tuple[int, int]:
    return events_purge_old()
