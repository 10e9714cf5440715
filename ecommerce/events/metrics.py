"""How far behind background work is, as Prometheus gauges read at scrape time from this role's database.

Readiness never fails on these (a backlog is no reason to stop serving); alerts fire on them instead:
``shop_outbox_pending_events`` and ``shop_outbox_oldest_pending_seconds`` (events not yet handed to the broker, and
the age of the oldest: a broker outage or a stuck relay), ``shop_dead_letters`` (per consumer, what it gave up on).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


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


_registered = False


def register_collector() -> None:
    """Once per process (Django may call ``ready`` again in some test setups)."""
    global _registered
    if not _registered:
        from prometheus_client import REGISTRY

        REGISTRY.register(EventBacklogCollector())
        _registered = True
