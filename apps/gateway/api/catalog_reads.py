"""Catalog reads for the public API, served from the shared cache as rendered bytes when they can be.

Rules guarded here (the products contract's cache versions are what make them hold):
- An entry is keyed by the validated query (filters, audience, page, page size), so staff, who also see inactive
  products, and everyone else never share an entry.
- The versions are read in the same round trip as the entry and *before* the products service is asked, and stored
  with what it answered; a change that commits at any moment after that read invalidates the entry.
- An entry is trusted only while the catalog version it was stored under is current, and never past its
  ``valid_until`` (the next discount boundary that could change what it shows), so a price, discount window,
  activity, category, text or deletion is visible on the next read, and so is the passage of time.
- Stock changes with every sale, so a page does not die with it: when only the stock version moved, the page's
  stock and ``updated_at`` are read again in one cheap call and the stored pieces are put together anew. A list
  filtered by ``in_stock`` depends on stock for its very rows, so it is re-read instead. One product's answer is
  small, so it is simply re-read when either version moved.
- What the views answer an anonymous caller is also kept as served (``apps.gateway.served``), under the same stamp,
  and the WSGI edge (``apps.gateway.edge``) sends it again to the next anonymous caller while it is current, before
  Django sees the request; every other read (staff, a miss, a stale stock figure, a throttled caller) comes here.
- Every entry also has a time to live (``ECOMMERCE_CATALOG_CACHE_SECONDS``, 0 turns caching off), so an
  invalidation lost to a crash or a cache outage heals by itself. A cache that does not answer is skipped: the
  products service is asked, as without a cache.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

from apps.gateway import served
from apps.gateway.api.catalog_render import ProductParts, page_json, product_bytes, product_json, product_parts
from apps.gateway.api.catalog_serializers import ProductQuerySerializer
from apps.gateway.api.validation import validated_query
from ecommerce import cache_versions
from ecommerce.after_response import after_response
from ecommerce.api.conditional import json_bytes_response
from ecommerce.api.pagination import PageQuerySerializer, page_links
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION, ProductFilter, products_service

logger = logging.getLogger(__name__)

VERSION_NAMES = (CATALOG_VERSION, STOCK_VERSION)
VERSION_KEYS = [cache_versions.version_key(name) for name in VERSION_NAMES]


class PageEntry(NamedTuple):
    catalog_version: int
    stock_version: int
    valid_until: float | None
    rows_follow_stock: bool
    count: int
    product_ids: list[int]
    parts: list[ProductParts]
    results: bytes


class ProductEntry(NamedTuple):
    catalog_version: int
    stock_version: int
    valid_until: float | None
    body: bytes


@lru_cache(maxsize=4096)
def product_list_query(query_string: str, *, include_inactive: bool) -> tuple[int, int, ProductFilter]:
    """The validated page, page size and filters of a product list query string. A query string always validates to
    the same answer, and a handful of them make most of the catalog's traffic, so each is validated once per process
    (a bad one raises every time: errors are not cached)."""
    params = QueryDict(query_string)
    page = validated_query(PageQuerySerializer, params)
    filters = ProductFilter(**validated_query(ProductQuerySerializer, params), include_inactive=include_inactive)
    return page["page"], page["page_size"], filters


def _enabled() -> bool:
    return settings.ECOMMERCE_CATALOG_CACHE_SECONDS > 0


def _page_key(*, filters: ProductFilter, page: int, page_size: int) -> str:
    return _key("page", page, page_size, filters.model_dump_json())


def _product_key(*, product_id: int, include_inactive: bool) -> str:
    return _key("product", product_id, include_inactive)


def _key(kind: str, *parts: object) -> str:
    return f"catalog:{kind}:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:40]


def _timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _lookup(key: str) -> tuple[tuple[int, ...], Any] | None:
    """The current versions and the entry under ``key`` (or None), in one round trip; None if the cache is down."""
    try:
        found = cache.get_many([*VERSION_KEYS, key])
        return cache_versions.current(found, VERSION_NAMES), found.get(key)
    except Exception:  # a cache outage degrades to uncached reads, it never fails them
        logger.warning("catalog cache unavailable; reading through", exc_info=True)
        return None


def _store(key: str, entry: NamedTuple, valid_until: float | None) -> None:
    """Keep ``entry`` once the answer is sent (the caller does not wait for it; its versions were read before the
    data, so storing it a moment later is as safe as at once)."""
    timeout = settings.ECOMMERCE_CATALOG_CACHE_SECONDS
    if valid_until is not None:
        timeout = min(timeout, valid_until - time.time())
    if timeout < 1:
        return

    def store() -> None:
        try:
            cache.set(key, entry, timeout=int(timeout))
        except Exception:  # see _lookup
            logger.warning("catalog cache unavailable; answer not stored", exc_info=True)

    after_response(store)


def _current(entry: Any, kind: type[NamedTuple], catalog_version: int) -> bool:
    return (isinstance(entry, kind) and entry.catalog_version == catalog_version
            and (entry.valid_until is None or time.time() < entry.valid_until))


def _joined(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _with_fresh_stock(entry: PageEntry, stock_version: int) -> PageEntry | None:
    levels = {level.product_id: level for level in
              products_service.product_stock_levels(product_ids=entry.product_ids)}
    if len(levels) != len(entry.product_ids):
        return None  # a product vanished meanwhile: the page itself must be read again
    items = [product_bytes(parts, stock=levels[product_id].stock, updated_at=levels[product_id].updated_at)
             for product_id, parts in zip(entry.product_ids, entry.parts, strict=True)]
    return entry._replace(stock_version=stock_version, results=_joined(items))


class Stamp(NamedTuple):
    """The cache versions an answer was rendered under and the moment it stops being valid."""

    versions: tuple[int, int]
    valid_until: float | None


def list_response(request: HttpRequest, *, include_inactive: bool) -> HttpResponse:
    """The product list as the query string asks; an anonymous answer is also kept for the edge to serve again."""
    query_string = request.META.get("QUERY_STRING", "")
    page, page_size, filters = product_list_query(query_string, include_inactive=include_inactive)
    count, results, stamp = product_page(filters=filters, page=page, page_size=page_size)
    next_url, previous_url = page_links(request, page=page, page_size=page_size, count=count)
    body = page_json(count=count, next_url=next_url, previous_url=previous_url, results=results)
    if stamp is not None and not include_inactive:
        after_response(partial(served.remember, served.list_key(query_string), versions=stamp.versions,
                               valid_until=stamp.valid_until, body=body))
    return json_bytes_response(request, body)


def product_response(request: HttpRequest, *, product_id: int, include_inactive: bool) -> HttpResponse:
    """One product; an anonymous answer is also kept for the edge to serve again."""
    body, stamp = product(product_id=product_id, include_inactive=include_inactive)
    if stamp is not None and not include_inactive:
        after_response(partial(served.remember, served.product_key(product_id), versions=stamp.versions,
                               valid_until=stamp.valid_until, body=body))
    return json_bytes_response(request, body)


def product_page(*, filters: ProductFilter, page: int, page_size: int) -> tuple[int, bytes, Stamp | None]:
    """The total count and the rendered JSON array of one page of products, and the stamp they were cached under
    (None when caching is off or the cache is down)."""
    key = _page_key(filters=filters, page=page, page_size=page_size)
    looked_up = _lookup(key) if _enabled() else None
    if looked_up is not None:
        (catalog_version, stock_version), entry = looked_up
        if _current(entry, PageEntry, catalog_version):
            if entry.stock_version == stock_version:
                return entry.count, entry.results, Stamp(looked_up[0], entry.valid_until)
            if not entry.rows_follow_stock:
                refreshed = _with_fresh_stock(entry, stock_version)
                if refreshed is not None:
                    _store(key, refreshed, refreshed.valid_until)
                    return refreshed.count, refreshed.results, Stamp(looked_up[0], refreshed.valid_until)

    answer = products_service.product_list(filters=filters, page=page, page_size=page_size)
    parts = [product_parts(product) for product in answer.results]
    results = _joined([product_bytes(piece, stock=product.stock, updated_at=product.updated_at)
                       for piece, product in zip(parts, answer.results, strict=True)])
    if looked_up is None:
        return answer.count, results, None
    (catalog_version, stock_version), _ = looked_up
    valid_until = _timestamp(answer.valid_until)
    _store(key, PageEntry(
        catalog_version=catalog_version, stock_version=stock_version, valid_until=valid_until,
        rows_follow_stock=filters.in_stock is not None, count=answer.count,
        product_ids=[product.id for product in answer.results], parts=parts, results=results,
    ), valid_until)
    return answer.count, results, Stamp(looked_up[0], valid_until)


def product(*, product_id: int, include_inactive: bool) -> tuple[bytes, Stamp | None]:
    """One product rendered as JSON and the stamp it was cached under; NotFound as the products service raises it."""
    key = _product_key(product_id=product_id, include_inactive=include_inactive)
    looked_up = _lookup(key) if _enabled() else None
    if looked_up is not None:
        (catalog_version, stock_version), entry = looked_up
        if _current(entry, ProductEntry, catalog_version) and entry.stock_version == stock_version:
            return entry.body, Stamp(looked_up[0], entry.valid_until)

    answer = products_service.product_get(product_id=product_id, include_inactive=include_inactive)
    body = product_json(answer)
    if looked_up is None:
        return body, None
    (catalog_version, stock_version), _ = looked_up
    valid_until = _timestamp(answer.next_price_change(timezone.now()))
    _store(key, ProductEntry(catalog_version=catalog_version, stock_version=stock_version,
                             valid_until=valid_until, body=body), valid_until)
    return body, Stamp(looked_up[0], valid_until)
