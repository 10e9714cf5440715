"""Anonymous catalog answers kept as they were served, for the WSGI edge (``apps.gateway.edge``) to send again.

An entry is the exact body of a ``200`` the views gave an anonymous ``GET`` of the product list or of one product,
keyed by the path and the raw query string it answered (so its pagination links are the ones that request gets),
with the cache versions it was rendered under, the moment it stops being valid, its ETag and its length. Both parts
are stored as plain bytes, so reading them costs no unpickling: the edge answers many thousands of these a second.
The entry under the request's key is only that short stamp; the body is kept apart under its ETag (a digest of the
body, so one key always holds the same bytes). The edge reads the stamp with the versions in the round trip that
counts the request, and keeps the bodies it sent lately in its own memory: a page answered again moves a few dozen
bytes out of Redis instead of the whole page, and a ``304`` or ``HEAD`` answer needs no body at all.

Rules guarded here:
- Only the views write entries, after rendering an answer from data read under the versions stored with it
  (``apps.gateway.api.catalog_reads`` reads those versions before the data, so a change that commits meanwhile
  invalidates the entry); staff answers (which include inactive products) are never stored.
- An entry is served only while both versions it names are still the current ones and before its ``valid_until``
  (the next discount boundary), exactly as the views trust their own entries; anything else goes on to the views.
- Every entry has a time to live no longer than the catalog cache's, so an invalidation lost to an outage heals.
- A body is written before the stamp that names it, with the same time to live, and is trusted only if its digest
  is the ETag asked for; a stamp whose body is missing is a miss.
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
_FORMAT = b"served2"


class Served(NamedTuple):
    """The stamp of a served answer: what the edge needs to judge it and to answer 304 or HEAD."""

    catalog_version: int
    stock_version: int
    valid_until: float | None
    etag: str
    length: int


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


def body_key(etag: str) -> str:
    digest = etag.strip('"')
    return f"catalog:served-body:{digest}"


def encode(served: Served) -> bytes:
    valid_until = repr(served.valid_until) if served.valid_until is not None else "-"
    stamp = f"{served.catalog_version} {served.stock_version} {valid_until} {served.etag} {served.length}"
    return b"%s %s" % (_FORMAT, stamp.encode())


def decode(raw: bytes | None) -> Served | None:
    """The stamp in ``raw``; None for nothing, or for anything this release did not write."""
    if not raw:
        return None
    fields = raw.split(b" ")
    if len(fields) != 6 or fields[0] != _FORMAT:
        return None
    try:
        valid_until = None if fields[3] == b"-" else float(fields[3])
        return Served(int(fields[1]), int(fields[2]), valid_until, fields[4].decode(), int(fields[5]))
    except ValueError:
        return None


def body_matches(served: Served, body: bytes | None) -> bool:
    """Whether ``body`` (as read under ``body_key``) is the one ``served`` names."""
    return body is not None and len(body) == served.length and etag_of(body) == served.etag


def is_current(served: Served, *, catalog_version: object, stock_version: object) -> bool:
    return (served.catalog_version == catalog_version and served.stock_version == stock_version
            and (served.valid_until is None or time.time() < served.valid_until))


def read_body(served: Served) -> bytes | None:
    """The body ``served`` names, from the shared cache; None when it is gone (or is not that body)."""
    connection = redis_connection()
    body = connection.get(raw_key(body_key(served.etag))) if connection is not None else None
    return body if body_matches(served, body) else None


def remember(key: str, *, versions: tuple[int, ...], valid_until: float | None, body: bytes) -> None:
    """Keep an answer the views just gave an anonymous caller, rendered under ``versions``: its body under its ETag,
    then its stamp under ``key``, in one round trip."""
    timeout = settings.ECOMMERCE_CATALOG_CACHE_SECONDS
    if valid_until is not None:
        timeout = min(timeout, valid_until - time.time())
    if timeout < 1:
        return
    catalog_version, stock_version = versions
    served = Served(catalog_version, stock_version, valid_until, etag_of(body), len(body))
    try:
        connection = redis_connection()
        if connection is not None:
            pipeline = connection.pipeline(transaction=False)
            pipeline.set(raw_key(body_key(served.etag)), body, ex=int(timeout))
            pipeline.set(raw_key(key), encode(served), ex=int(timeout))
            pipeline.execute()
    except Exception:  # a cache outage only costs the edge this entry
        logger.warning("catalog cache unavailable; served answer not kept", exc_info=True)
