"""A user's cart read through the shared cache, so that showing a cart again reads no database.

Rules guarded here (the carts contract's per-cart version is what makes them hold):
- The entry is the cart as ``carts.cart_get`` answered it, stored with the cart's version read *before* the call,
  and trusted only while that version is current; every change of the cart's lines bumps it, so an add, a
  removal, a checkout's claim or a release is visible on the next read.
- The version and the entry are read in one round trip. Every entry also has a time to live
  (``ECOMMERCE_CATALOG_CACHE_SECONDS``, 0 turns this cache off with the catalog's), so an invalidation lost to a
  crash or a cache outage heals by itself. A cache that does not answer is skipped: carts is asked, as without one.
"""

from __future__ import annotations

import hashlib
import logging
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from ecommerce import cache_versions
from ecommerce.contracts.carts import CartDTO, cart_version, carts_service

logger = logging.getLogger(__name__)

# Entries hold pickled DTOs: a release that changes the DTO's fields reads under other keys, never an old shape.
_SHAPE = hashlib.sha256(",".join(CartDTO.model_fields).encode()).hexdigest()[:12]


class CartEntry(NamedTuple):
    version: int
    cart: CartDTO


def _key(user_id: int) -> str:
    return f"cart:{_SHAPE}:{user_id}"


def cart_get(*, user_id: int) -> CartDTO:
    if settings.ECOMMERCE_CATALOG_CACHE_SECONDS <= 0:
        return carts_service.cart_get(user_id=user_id)
    name, key = cart_version(user_id), _key(user_id)
    try:
        found = cache.get_many([cache_versions.version_key(name), key])
        (version,) = cache_versions.current(found, (name,))
    except Exception:  # a cache outage degrades to reading the cart, it never fails it
        logger.warning("cart cache unavailable; reading through", exc_info=True)
        return carts_service.cart_get(user_id=user_id)
    entry = found.get(key)
    if isinstance(entry, CartEntry) and entry.version == version:
        return entry.cart
    cart = carts_service.cart_get(user_id=user_id)
    try:
        cache.set(key, CartEntry(version=version, cart=cart), timeout=settings.ECOMMERCE_CATALOG_CACHE_SECONDS)
    except Exception:  # see above
        logger.warning("cart cache unavailable; cart not stored", exc_info=True)
    return cart
