"""Writes of the products context, one module per idea:

- ``validation``: the field, slug and unique-race helpers every write shares (no ``IntegrityError`` leaves here);
- ``categories``: the category tree (no cycles, only empty categories are deleted);
- ``products``: product create/replace/update/bulk create/delete (validated whole, deactivated once ordered);
- ``bulk``: many products chosen by staff at once (activate, deactivate, reprice by a percent), all or nothing;
- ``stock``: stock adjustments with their audit trail, reservations and their release (conditional updates,
  idempotent per order).

The names callers used before the split are re-exported here, so ``from apps.products import services`` keeps
working. Code that monkeypatches a helper must patch the module that looks the name up (e.g. ``services.products``).
"""

from apps.products.services.bulk import product_bulk_reprice, product_bulk_set_active
from apps.products.services.categories import category_create, category_delete, category_errors, category_update
from apps.products.services.products import (
    BULK_BATCH_SIZE,
    PRODUCT_FIELDS,
    clean_product,
    product_bulk_create,
    product_create,
    product_delete,
    product_replace,
    product_update,
)
from apps.products.services.stock import (
    STALE_RESERVATION_AGE,
    product_stock_adjust,
    record_stock_adjustment,
    stock_commit,
    stock_release,
    stock_release_stale,
    stock_reservation_confirm,
    stock_reserve,
)
from apps.products.services.validation import MAX_STOCK, Errors, unique_slug

__all__ = [
    "BULK_BATCH_SIZE",
    "MAX_STOCK",
    "PRODUCT_FIELDS",
    "STALE_RESERVATION_AGE",
    "Errors",
    "category_create",
    "category_delete",
    "category_errors",
    "category_update",
    "clean_product",
    "product_bulk_create",
    "product_bulk_reprice",
    "product_bulk_set_active",
    "product_create",
    "product_delete",
    "product_replace",
    "product_stock_adjust",
    "product_update",
    "record_stock_adjustment",
    "stock_commit",
    "stock_release",
    "stock_release_stale",
    "stock_reservation_confirm",
    "stock_reserve",
    "unique_slug",
]
