"""Products as a cart prices them, read through the shared cache, so that showing a cart asks the catalog only for
what changed since the cart was last shown.

Rules guarded here (the products contract's cache versions are what make them hold):
- An entry is one product as the catalog answered it, stored with the catalog and stock versions read *before*
  the catalog was asked. It is trusted only while both versions are still current and before the product's next
  price change (a discount window opening or closing), so a price, discount, name, activity, stock or deletion is
  visible on the next read, and so is the passage of time. A cart shows what is available, which moves with every
  sale: the stock version is part of the rule.
- The versions and every entry asked for are read in one round trip; the products missing or out of date are asked
  of the catalog in one call and stored. A product the catalog no longer knows is not stored: it is asked again.
- Every entry also has a time to live (``ECOMMERCE_CATALOG_CACHE_SECONDS``, 0 turns this cache off), so an
  invalidation lost to a crash or a cache outage heals by itself. A cache that does not answer is skipped: the
  catalog is asked, as without a cache.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from ecommerce import cache_versions
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION, ProductDTO, products_service

logger = logging.getLogger(__name__)

VERSION_NAMES = (CATALOG_VERSION, STOCK_VERSION)
VERSION_KEYS = [cache_versions.version_key(name) for name in VERSION_NAMES]


class ProductEntry(NamedTuple):
    versions: tuple[int, ...]
    valid_until: float | None
    product: ProductDTO


# Entries hold pickled DTOs: a release that changes the DTO's fields reads under other keys, never an old shape.
_SHAPE = hashlib.sha256(",".join(ProductDTO.model_fields).encode()).hexdigest()[:12]


def _key(product_id: int) -> str:
    return f"cart-pricing:product:{_SHAPE}:{product_id}"


def products_by_id(product_ids: list[int]) -> dict[int, ProductDTO]:
    """The products asked for that the catalog knows, inactive ones included, by id."""
    wanted = list(dict.fromkeys(product_ids))
    if not wanted:
        return {}
    if settings.ECOMMERCE_CATALOG_CACHE_SECONDS <= 0:
        return _from_catalog(wanted)
    keys = {product_id: _key(product_id) for product_id in wanted}
    try:
        found = cache.get_many([*VERSION_KEYS, *keys.values()])
        versions = cache_versions.current(found, VERSION_NAMES)
    except Exception:  # a cache outage degrades to catalog reads, it never fails them
        logger.warning("cart pricing cache unavailable; reading through", exc_info=True)
        return _from_catalog(wanted)
    now = time.time()
    products: dict[int, ProductDTO] = {}
    for product_id, key in keys.items():
        entry = found.get(key)
        if (isinstance(entry, ProductEntry) and entry.versions == versions
                and (entry.valid_until is None or now < entry.valid_until)):
            products[product_id] = entry.product
    missing = [product_id for product_id in wanted if product_id not in products]
    if missing:
        fetched = _from_catalog(missing)
        products.update(fetched)
        _store(fetched.values(), versions)
    return products


def _from_catalog(product_ids: list[int]) -> dict[int, ProductDTO]:
    return {product.id: product for product in products_service.product_get_many(product_ids=product_ids)}


def _store(products, versions: tuple[int, ...]) -> None:
    now = timezone.now()
    entries = {}
    for product in products:
        boundary = product.next_price_change(now)
        entries[_key(product.id)] = ProductEntry(versions=versions, product=product,
                                                 valid_until=boundary.timestamp() if boundary else None)
    if not entries:
        return
    try:
        cache.set_many(entries, timeout=settings.ECOMMERCE_CATALOG_CACHE_SECONDS)
    except Exception:  # see products_by_id
        logger.warning("cart pricing cache unavailable; products not stored", exc_info=True)
