from celery import shared_task

from ecommerce.events.relay import relay_outbox as relay_pending_events


@shared_task(name="ecommerce.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return relay_pending_events()
