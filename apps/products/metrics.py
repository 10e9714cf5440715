"""Stock-outs, for the operator's dashboards: ``shop_stock_outs_total`` counts products whose available stock
reached zero (a reservation or write-off took the last unit), ``shop_stock_refusals_total`` the reservations
refused because a line was short, and ``shop_products_out_of_stock`` (read at scrape time from this role's database)
how many products on sale have nothing available now."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

STOCK_OUTS = Counter("shop_stock_outs_total", "Products whose available stock reached zero.")
STOCK_REFUSALS = Counter("shop_stock_refusals_total", "Reservations refused because a line was short of stock.")


class OutOfStockCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("shop_products_out_of_stock", "Products on sale with no stock available.")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import F

        from apps.products.models import Product

        try:
            count = Product.objects.filter(is_active=True, stock_on_hand__lte=F("stock_reserved")).count()
        except Exception as error:  # noqa: BLE001 - a scrape must not fail because the database does
            logger.warning("out-of-stock metric unavailable: %s", type(error).__name__)
            return
        yield GaugeMetricFamily("shop_products_out_of_stock", "Products on sale with no stock available.",
                                value=count)
