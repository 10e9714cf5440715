"""The event consumers of a Celery worker: a custom consumer bootstep (Celery's documented ``ConsumerStep``).

When a worker starts (and whenever it reconnects to the broker), the step declares the whole event topology and
consumes the queue of every consumer this process runs: all of them in the monolith, its own role's in a split
deployment (``subscriptions.local``). Messages are the raw event envelopes the relay published; each is handled by
``consumption.message_handle`` and acknowledged late, after its effect committed. ``config.celery`` adds the step to
the worker, so ``celery -A config worker`` runs a role's tasks and its consumers together.

This module is imported with the Celery app, before Django is set up: it imports nothing that touches models.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import bootsteps
from kombu import Consumer

logger = logging.getLogger(__name__)

# Messages are handled one by one in the worker's consumer loop; a few in flight keep it busy without hoarding.
PREFETCH_PER_CONSUMER = 8


class EventConsumersStep(bootsteps.ConsumerStep):
    def get_consumers(self, channel: Any) -> list[Consumer]:
        from ecommerce.events import subscriptions, topology
        from ecommerce.events.consumption import message_handle

        topology.declare(channel)
        local = subscriptions.local()
        if local:
            logger.info("consuming events for %s", ", ".join(s.consumer for s in local))
        return [
            Consumer(channel, queues=[topology.consumer_queue(subscription)],
                     on_message=partial(message_handle, subscription), accept=["json"],
                     prefetch_count=PREFETCH_PER_CONSUMER)
            for subscription in local
        ]
