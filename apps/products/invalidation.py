"""Tells every cache of catalog answers that they are out of date (the versions the products contract publishes).

Rule guarded here: every write of the catalog bumps a version, whichever path it takes. Saves and deletes of
products and categories are caught by ``post_save``/``post_delete`` receivers, so a service, an admin form, an admin
bulk action or a shell session cannot forget; the writes that bypass those signals (``QuerySet.update`` of stock,
deactivation and bulk inserts) call these functions themselves. Stock has its own version because it changes with
every sale: a sale must not throw away cached pages whose products, prices and names did not change.
"""

from __future__ import annotations

from typing import Any

from ecommerce.cache_versions import bump
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION


def catalog_changed() -> None:
    """A product or category changed (anything but stock): names, prices, discounts, activity, tree, existence."""
    bump(CATALOG_VERSION)


def stock_changed() -> None:
    """The available stock (and so the last change time) of some products changed."""
    bump(STOCK_VERSION)


def on_catalog_row_saved_or_deleted(sender: type, **_: Any) -> None:
    catalog_changed()
