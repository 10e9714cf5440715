"""The Django admin of the products context: the daily tool of catalog staff (granted to the "catalog_staff" group
by data migrations; order staff only read). One module per idea:

- ``categories``: the category tree;
- ``products``: the product list (typo-tolerant search, filters, sortable prices and stock, thumbnails), its forms;
- ``bulk``: bulk activate, deactivate and reprice, each behind a confirmation page;
- ``imports``: CSV import (dry-run preview, row errors) and export;
- ``stock``: stock adjustments with a reason and their audit trail, the low-stock view, reservations (read only).

Every write goes through the products services, so validation, audit rows, events and cache invalidation are the
same as the API's. Stock quantities are never a form field: they move only through the stock services.
"""

from apps.products.admin import categories, products, stock  # noqa: F401  (registration)
