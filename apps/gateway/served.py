"""Anonymous catalog answers kept as they were served, for the WSGI edge (``apps.gateway.edge``) to send again.

An entry is the exact body of a ``200`` the views gave an anonymous ``GET`` of the product list or of one product,
keyed by the path and the raw query string it answered (so its pagination links are the ones that request gets),
with the cache versions it was rendered under, the moment it stops being valid and its ETag. It is stored as plain
bytes, a short header line and the body, so reading it costs no unpickling: the edge answers many thousands of these
a second.

Rules guarded here:
- Only the views write entries, after rendering an answer from data read under the versions stored with it
  (``apps.gateway.api.catalog_reads`` reads those versions before the data, so a change that commits meanwhile
  invalidates the entry); staff answers (which include inactive products) are never stored.
- An entry is served only while both versions it names are still the current ones and before its ``valid_until``
  (the next discount boundary), exactly as the views trust their own entries; anything else goes on to the views.
- Every entry has a time to live no longer than the catalog cache's, so an invalidation lost to an outage heals.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import NamedTuple

from django.conf import settings

from ecommerce.api.conditional import etag_of
from ecommerce.raw_cache import raw_key, redis_connection

logger = logging.getLogger(__name__)

LIST_PATH = "/api/v1/products"
PRODUCT_PATH_PREFIX = f"{LIST_PATH}/"
_FORMAT = b"served1"


class Served(NamedTuple):
    catalog_version: int
    stock_version: int
    valid_until: float | None
    etag: str
    body: bytes


def list_key(query_string: str) -> str:
    return _key(LIST_PATH, query_string)


def product_key(product_id: int) -> str:
    return _key(f"{PRODUCT_PATH_PREFIX}{product_id}", "")


def key_for_path(path: str, query_string: str) -> str | None:
    """The key of what a ``GET`` of ``path`` may have been served, or None if it is not a catalog read kept here.
    Anything unusual (a query on a product, a non-canonical id) is simply not found and left to the views."""
    if path == LIST_PATH:
        return list_key(query_string)
    if path.startswith(PRODUCT_PATH_PREFIX) and not query_string:
        product_id = path[len(PRODUCT_PATH_PREFIX):]
        if product_id.isdigit() and len(product_id) <= 18 and not product_id.startswith("0"):
            return product_key(int(product_id))
    return None


def _key(path: str, query_string: str) -> str:
    digest = hashlib.blake2b(f"{path}?{query_string}".encode(), digest_size=20).hexdigest()
    return f"catalog:served:{digest}"


def encode(served: Served) -> bytes:
    valid_until = repr(served.valid_until) if served.valid_until is not None else "-"
    header = f"{served.catalog_version} {served.stock_version} {valid_until} {served.etag}"
    return b"%s %s\n%s" % (_FORMAT, header.encode(), served.body)


def decode(raw: bytes | None) -> Served | None:
    """The entry in ``raw``; None for nothing, or for anything this release did not write."""
    if not raw:
        return None
    header, separator, body = raw.partition(b"\n")
    fields = header.split(b" ")
    if not separator or len(fields) != 5 or fields[0] != _FORMAT:
        return None
    try:
        valid_until = None if fields[3] == b"-" else float(fields[3])
        return Served(int(fields[1]), int(fields[2]), valid_until, fields[4].decode(), body)
    except ValueError:
        return None


def is_current(served: Served, *, catalog_version: object, stock_version: object) -> bool:
    return (served.catalog_version == catalog_version and served.stock_version == stock_version
            and (served.valid_until is None or time.time() < served.valid_until))


def remember(key: str, *, versions: tuple[int, ...], valid_until: float | None, body: bytes) -> None:
    """Keep an answer the views just gave an anonymous caller, rendered under ``versions``."""
    timeout = settings.ECOMMERCE_CATALOG_CACHE_SECONDS
    if valid_until is not None:
        timeout = min(timeout, valid_until - time.time())
    if timeout < 1:
        return
    catalog_version, stock_version = versions
    served = Served(catalog_version, stock_version, valid_until, etag_of(body), body)
    try:
        connection = redis_connection()
        if connection is not None:
            connection.set(raw_key(key), encode(served), ex=int(timeout))
    except Exception:  # a cache outage only costs the edge this entry
        logger.warning("catalog cache unavailable; served answer not kept", exc_info=True)
