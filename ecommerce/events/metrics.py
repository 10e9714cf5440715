"""How far behind background work is, as Prometheus gauges read at scrape time from this role's database.

Readiness never fails on these (a backlog is no reason to stop serving); alerts fire on them instead:
``shop_outbox_pending_events`` and ``shop_outbox_oldest_pending_seconds`` (events not yet handed to the broker, and
the age of the oldest: a broker outage or a stuck relay), ``shop_dead_letters`` (per consumer, what it gave up on),
and from the broker ``shop_celery_queue_messages`` / ``shop_celery_queue_consumers`` per queue this role reads (its
task queue and its event consumers' queues: work waiting, and whether any worker takes it). The broker is asked at
most once per ``QUEUE_DEPTH_TTL_SECONDS`` per process, with a short timeout; when it cannot be asked, the families
are left out of that scrape (``/readyz`` reports the broker's state).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


QUEUE_DEPTH_TTL_SECONDS = 10.0
BROKER_TIMEOUT_SECONDS = 1.0


def _queues_read_here() -> list[str]:
    from django.conf import settings

    from ecommerce import deployment
    from ecommerce.events import subscriptions, topology

    queues = [settings.CELERY_TASK_DEFAULT_QUEUE]
    if deployment.is_split():
        queues.append(f"{settings.ECOMMERCE_BROKER_NAMESPACE}{deployment.process_role()}")
    queues += [topology.queue_name(subscription) for subscription in subscriptions.local()]
    return [queue for queue in dict.fromkeys(queues) if queue]


def _queue_depths(broker_url: str, queues: list[str]) -> dict[str, tuple[int, int]]:
    """(messages ready, consumers) per queue; a queue not declared yet is left out."""
    from kombu import Connection

    depths: dict[str, tuple[int, int]] = {}
    with Connection(broker_url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=0)
        for queue in queues:
            try:
                # A passive declare answers the counts; on a missing queue the broker closes the channel.
                _, messages, consumers = broker.channel().queue_declare(queue=queue, passive=True)
            except Exception:  # noqa: BLE001, S112 - not declared yet: nothing waits in it
                continue
            depths[queue] = (messages, consumers)
    return depths


class CeleryQueueCollector(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, tuple[int, int]]] | None = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("shop_celery_queue_messages", "Messages waiting in the queue.", labels=["queue"])
        yield GaugeMetricFamily("shop_celery_queue_consumers", "Workers consuming the queue.", labels=["queue"])

    def _depths(self) -> dict[str, tuple[int, int]] | None:
        from django.conf import settings

        if not settings.CELERY_BROKER_URL:
            return None
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < QUEUE_DEPTH_TTL_SECONDS:
                return self._cached[1]
            try:
                depths = _queue_depths(settings.CELERY_BROKER_URL, _queues_read_here())
            except Exception as error:  # noqa: BLE001 - a scrape must not fail because the broker does
                logger.warning("queue depth metrics unavailable: %s", type(error).__name__)
                return None
            self._cached = (time.monotonic(), depths)
            return depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self._depths()
        if depths is None:
            return
        messages = GaugeMetricFamily("shop_celery_queue_messages", "Messages waiting in the queue.",
                                     labels=["queue"])
        consumers = GaugeMetricFamily("shop_celery_queue_consumers", "Workers consuming the queue.",
                                      labels=["queue"])
        for queue, (waiting, readers) in sorted(depths.items()):
            messages.add_metric([queue], waiting)
            consumers.add_metric([queue], readers)
        yield messages
        yield consumers


class EventBacklogCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The metric names, without reading the database (registration asks for them at start-up)."""
        yield GaugeMetricFamily("shop_outbox_pending_events", "Events written but not yet published.")
        yield GaugeMetricFamily("shop_outbox_oldest_pending_seconds", "Age of the oldest unpublished event.")
        yield GaugeMetricFamily("shop_dead_letters", "Messages a consumer gave up on, not yet replayed.",
                                labels=["consumer"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from ecommerce.events.models import DeadLetter
        from ecommerce.events.outbox import outbox_backlog

        try:
            backlog = outbox_backlog()
            dead = dict(DeadLetter.objects.filter(replayed_at=None).values_list("consumer")
                        .annotate(count=Count("id")).values_list("consumer", "count"))
        except Exception as error:  # noqa: BLE001 - a scrape must not fail because the database does
            logger.warning("event backlog metrics unavailable: %s", type(error).__name__)
            return
        yield GaugeMetricFamily("shop_outbox_pending_events", "Events written but not yet published.",
                                value=backlog.pending)
        yield GaugeMetricFamily("shop_outbox_oldest_pending_seconds", "Age of the oldest unpublished event.",
                                value=backlog.oldest_age_seconds or 0.0)
        letters = GaugeMetricFamily("shop_dead_letters", "Messages a consumer gave up on, not yet replayed.",
                                    labels=["consumer"])
        for consumer, count in sorted(dead.items()):
            letters.add_metric([consumer], count)
        yield letters


def register_collectors() -> None:
    from ecommerce.metrics import register_scrape_collector

    register_scrape_collector(EventBacklogCollector())
    register_scrape_collector(CeleryQueueCollector())
