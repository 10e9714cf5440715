"""A signed-in user's cart answer (the rendered body of ``GET /cart``) kept in the shared cache, so that showing a
cart again composes and renders nothing.

Rules guarded here (the carts and products contracts' cache versions are what make them hold):
- An entry is the answer's bytes, stored with the cart's version and the catalog and stock versions, all read
  *before* the cart and its products are read. It is trusted only while all three are still current and before
  the cart's ``valid_until`` (the next discount boundary of a product in it), so a change of the cart (its lines,
  its voucher, a checkout's claim or release), a product's price, discount, name, activity, stock or deletion, and
  the passage of time are all visible on the next read.
- A cart with a voucher is never stored: what a voucher takes off depends on the orders context (its window, its
  uses), which publishes no version; such a cart is composed on every read, as without this cache.
- The versions and the entry are read in one round trip (``lookup_keys``). A signed-in ``GET /cart`` reads them
  in the round trip that also counts the request and reads its token's revocation mark, before the rest of the
  middleware and DRF (``apps.gateway.cart_middleware``); every read that goes on to the view gets the same bytes
  from ``user_cart_answer``.
- Every entry also has a time to live (``ECOMMERCE_CATALOG_CACHE_SECONDS``, 0 turns this cache off with the
  catalog's), so an invalidation lost to a crash or a cache outage heals by itself. A cache that does not answer
  is skipped: the cart is composed, as without a cache.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework import serializers

from apps.gateway.api.cart_render import cart_json
from apps.gateway.api.cart_serializers import CartOutputSerializer
from apps.gateway.composition.cart import cart_priced
from ecommerce import cache_versions
from ecommerce.contracts.carts import cart_version
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION

logger = logging.getLogger(__name__)


def _field_names(serializer: serializers.Serializer) -> list[str]:
    names = []
    for name, field in serializer.fields.items():
        names.append(name)
        child = getattr(field, "child", field)
        if isinstance(child, serializers.Serializer):
            names.extend(f"{name}.{nested}" for nested in _field_names(child))
    return names


# Entries hold rendered answers: a release that changes the answer's fields reads under other keys, never an old one.
_SHAPE = hashlib.sha256(",".join(_field_names(CartOutputSerializer())).encode()).hexdigest()[:12]


class CartAnswer(NamedTuple):
    versions: tuple[int, ...]
    valid_until: float | None
    body: bytes


def enabled() -> bool:
    return settings.ECOMMERCE_CATALOG_CACHE_SECONDS > 0


def _key(user_id: int) -> str:
    return f"cart-answer:{_SHAPE}:{user_id}"


def _version_names(user_id: int) -> tuple[str, ...]:
    return (cart_version(user_id), CATALOG_VERSION, STOCK_VERSION)


def lookup_keys(user_id: int) -> list[str]:
    """The cache keys that hold the user's answer and say whether it is current: read them in one round trip."""
    return [*(cache_versions.version_key(name) for name in _version_names(user_id)), _key(user_id)]


def current_answer(found: dict[str, object], *, user_id: int) -> bytes | None:
    """The user's cached answer among ``found`` (the values of ``lookup_keys``), if it is still current."""
    entry = found.get(_key(user_id))
    if not isinstance(entry, CartAnswer):
        return None
    versions = tuple(found.get(cache_versions.version_key(name)) for name in _version_names(user_id))
    if entry.versions != versions or (entry.valid_until is not None and time.time() >= entry.valid_until):
        return None
    return entry.body


def user_cart_answer(*, user_id: int) -> bytes:
    """The rendered answer of the user's cart: the cached one while it is current, else composed (and stored)."""
    if not enabled():
        return cart_json(cart_priced(user_id=user_id))
    try:
        found = cache.get_many(lookup_keys(user_id))
        versions = cache_versions.current(found, _version_names(user_id))
    except Exception:  # a cache outage degrades to composing the cart, it never fails it
        logger.warning("cart answer cache unavailable; composing the cart", exc_info=True)
        return cart_json(cart_priced(user_id=user_id))
    body = current_answer(found, user_id=user_id)
    if body is not None:
        return body
    cart = cart_priced(user_id=user_id)
    body = cart_json(cart)
    if cart.voucher is None:
        valid_until = cart.valid_until.timestamp() if cart.valid_until is not None else None
        _store(user_id, CartAnswer(versions=versions, valid_until=valid_until, body=body))
    return body


def _store(user_id: int, entry: CartAnswer) -> None:
    timeout = settings.ECOMMERCE_CATALOG_CACHE_SECONDS
    if entry.valid_until is not None:
        timeout = min(timeout, entry.valid_until - time.time())
    if timeout < 1:
        return
    try:
        cache.set(_key(user_id), entry, timeout=int(timeout))
    except Exception:  # see user_cart_answer
        logger.warning("cart answer cache unavailable; answer not stored", exc_info=True)


def cart_response(body: bytes, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json", status=status)
    # A guest's cart is read without an Authorization header: no shared cache may keep it for another caller.
    response["Cache-Control"] = "private, no-store"
    return response
