"""The WSGI edge: anonymous catalog reads answered again from what the views served, before Django sees them.

Reading the catalog is most of a shop's traffic, and an answer the views gave an anonymous caller a moment ago needs
nothing of Django to be given again: no request object, no signals, no middleware, no URL resolution, no DRF. The
edge wraps the WSGI application of every process that serves the public API and, for an anonymous ``GET`` or
``HEAD`` of the product list or of one product, reads the current cache versions and the served entry's stamp
(``apps.gateway.served``) in the same Redis round trip that counts the request against the anonymous throttle.
When the entry is current it answers it, the body from the bodies this process sent lately (by ETag, so never a
stale one) or else read once from Redis, with the headers the full stack would add: ETag (and ``304`` for a
matching ``If-None-Match``), the security headers of Django's own middleware, DRF's ``Allow`` (the answering
view's methods), ``X-Request-ID``, and the request's log line. Everything else goes on to Django unchanged: a miss,
a stale entry, a caller over the limit (whose ``429`` the views write), staff and other signed-in callers, a cache
that is down, a request that must be redirected to HTTPS. A request the edge counted and passed on is marked so the
views' throttle does not count it again.

What an edge answer leaves out: Django's per-view request metrics and an OpenTelemetry server span; edge answers are
counted in ``shop_catalog_edge_answers_total`` instead.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from prometheus_client import Counter
from redis.exceptions import RedisError

from apps.gateway import served
from ecommerce.api.conditional import JSON, if_none_match_matches, validation_headers
from ecommerce.cache_versions import version_key
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION
from ecommerce.logging import bind_request, unbind_request
from ecommerce.middleware import REQUEST_ID_HEADER, log_request, request_id_for
from ecommerce.throttling import ANONYMOUS_COUNTED, client_ip, count_anonymous_client

logger = logging.getLogger(__name__)

EDGE_ANSWERS = Counter("shop_catalog_edge_answers_total",
                       "Anonymous catalog reads answered at the WSGI edge from what the views served.", ["status"])
# Looked up once: finding a labelled child costs a lock and a dict on every answer.
_ANSWERED = {status: EDGE_ANSWERS.labels(status=str(status)) for status in (200, 304)}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_VERSION_KEYS = [version_key(CATALOG_VERSION), version_key(STOCK_VERSION)]
_READ_METHODS = frozenset({"GET", "HEAD"})
# The bodies an edge keeps in memory, by ETag: the pages and products anonymous callers read most. A few hundred
# typical pages; a process holds one edge.
BODY_MEMORY_BYTES = 8 * 1024 * 1024


def with_catalog_edge(app: WSGIApp) -> WSGIApp:
    """``app`` behind the edge where this process serves the public API and the catalog is cached; else ``app``."""
    if "apps.gateway" not in settings.INSTALLED_APPS or settings.ECOMMERCE_CATALOG_CACHE_SECONDS <= 0:
        return app
    return CatalogEdge(app)


class EdgeAnswer(NamedTuple):
    status: int
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


class CatalogEdge:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._fixed_headers: dict[bool, tuple[tuple[str, str], ...]] = {}
        self._allow_headers: dict[bool, tuple[tuple[str, str], ...]] = {}  # by "is it the list"
        self.bodies = RecentBodies(BODY_MEMORY_BYTES)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self.answer(environ)
        if answer is None:
            return self.app(environ, start_response)
        start_response(answer.status_line, answer.headers)
        return [answer.body]

    def answer(self, environ: dict[str, Any]) -> EdgeAnswer | None:
        """The edge's answer to the request ``environ`` describes, or None to let Django answer it (a request that
        was counted against the throttle is then marked so in ``environ``)."""
        if environ.get("REQUEST_METHOD") not in _READ_METHODS or "HTTP_AUTHORIZATION" in environ:
            return None
        key = served.key_for_path(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        if key is None:
            return None
        started = time.perf_counter()
        secure = self._secure(environ)
        if secure is None:
            return None
        try:
            counted = count_anonymous_client(_client_ip(environ), then_get=[*_VERSION_KEYS, key])
        except (RedisError, OSError):  # a cache outage: the views answer, reading through
            logger.warning("catalog edge: cache unavailable", exc_info=True)
            return None
        if counted is None:
            return None
        allowed, (catalog_version, stock_version, raw) = counted
        if not allowed:
            return None  # the views' throttle refuses it properly, with its problem answer
        entry = served.decode(raw)
        if entry is None or not served.is_current(entry, catalog_version=_int(catalog_version),
                                                  stock_version=_int(stock_version)):
            environ[ANONYMOUS_COUNTED] = True
            return None
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        headers = [*validation_headers(entry.etag), *self._allow(environ.get("PATH_INFO", "")),
                   *self._fixed_headers[secure], (REQUEST_ID_HEADER, request_id)]
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and if_none_match_matches(if_none_match, entry.etag):
            answer = EdgeAnswer(304, "304 Not Modified", headers, b"")
        else:
            body = b""
            if environ["REQUEST_METHOD"] == "GET":
                body = self._body(entry)
                if body is None:
                    environ[ANONYMOUS_COUNTED] = True
                    return None
            headers = [("Content-Type", JSON), ("Content-Length", str(entry.length)), *headers]
            answer = EdgeAnswer(200, "200 OK", headers, body)
        _ANSWERED[answer.status].inc()
        context = bind_request(request_id)
        try:
            log_request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), answer.status, started)
        finally:
            unbind_request(context)
        return answer

    def _body(self, entry: served.Served) -> bytes | None:
        body = self.bodies.get(entry.etag)
        if body is None:
            try:
                body = served.read_body(entry)
            except (RedisError, OSError):
                logger.warning("catalog edge: cache unavailable", exc_info=True)
                return None
            if body is not None:
                self.bodies.put(entry.etag, body)
        return body

    def _allow(self, path: str) -> tuple[tuple[str, str], ...]:
        """The ``Allow`` header DRF puts on the answers of the view that serves ``path``, found once for the list
        and once for the products."""
        is_list = path == served.LIST_PATH
        allow = self._allow_headers.get(is_list)
        if allow is None:
            allow = self._allow_headers[is_list] = _allow_header_of(path)
        return allow

    def _secure(self, environ: dict[str, Any]) -> bool | None:
        """Whether the request came over HTTPS (as Django would judge it); None when Django must answer it (a
        redirect to HTTPS is due). Judged only where it changes the answer, since it costs a request object."""
        if not (settings.SECURE_SSL_REDIRECT or settings.SECURE_HSTS_SECONDS):
            secure = False
        else:
            secure = WSGIRequest(environ).is_secure()
            if settings.SECURE_SSL_REDIRECT and not secure:
                return None
        if secure not in self._fixed_headers:
            self._fixed_headers[secure] = _headers_django_adds(environ, secure)
        return secure


class RecentBodies:
    """Bodies by ETag, the least recently sent dropped first once they hold more than ``max_bytes``. An ETag is a
    digest of its body, so a body found here is always the one asked for; whether it is still the current answer
    is for the stamp to say."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # the server's threads share the edge

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if etag in self._bodies:
                return
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)

    @property
    def size(self) -> int:
        return self._size


def _headers_django_adds(environ: dict[str, Any], secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers the security and clickjacking middleware put on an answer to such a request, taken from the
    middleware themselves, so the edge follows their settings."""
    request = WSGIRequest({**environ, "wsgi.input": io.BytesIO()})
    request.is_secure = lambda: secure  # type: ignore[method-assign]
    response = HttpResponse()
    response = SecurityMiddleware(lambda _: response).process_response(request, response)
    response = XFrameOptionsMiddleware(lambda _: response).process_response(request, response)
    return tuple((name, value) for name, value in response.items() if name.lower() != "content-type")


def _allow_header_of(path: str) -> tuple[tuple[str, str], ...]:
    """DRF's ``Allow`` header for the view ``path`` resolves to, taken from the view itself so the edge follows it
    when its methods change; none for a path no DRF view serves."""
    try:
        match = resolve(path)
    except Resolver404:
        return ()
    view_class = getattr(match.func, "cls", None)
    if view_class is None:
        return ()
    view = view_class(**getattr(match.func, "initkwargs", {}))
    view.setup(None)  # as Django sets a view up for a request: a view that answers GET answers HEAD too
    return (("Allow", view.default_response_headers["Allow"]),)


def _client_ip(environ: dict[str, Any]) -> str:
    """The client as every throttle names it. Of the headers, identifying a client reads only X-Forwarded-For, so
    that one is handed over rather than the whole parsed set."""
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for is not None else {}
    return client_ip(SimpleNamespace(META=environ, headers=headers))


def _int(value: bytes | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
