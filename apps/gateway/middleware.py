"""Anonymous catalog reads answered from the shared cache near the top of the middleware stack.

Reading the catalog is most of a shop's traffic, and a cached answer needs none of sessions, CSRF, messages, URL
resolution or DRF's request cycle. This middleware sits after the request id, security headers and static files,
and answers an anonymous ``GET`` of the product list or of one product when ``apps.gateway.api.catalog_reads``
has a current cached answer, counting it against the anonymous throttle in the same cache round trip (Django's own
cache middleware works the same way). Anything else (staff and other signed-in callers, writes, a miss, a throttled
caller) goes on to the views, which give the same answers; the tests hold both paths to the same expectations. A
process that does not serve the public API (a domain role of a split deployment) does not load it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from apps.gateway.api import catalog_reads

_PRODUCT = re.compile(r"^/api/v1/products/([0-9]{1,18})$")
_LIST = "/api/v1/products"


class CatalogCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if "apps.gateway" not in settings.INSTALLED_APPS:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"GET", "HEAD"} and "authorization" not in request.headers:
            answer = self._cached(request.path_info)
            response = answer(request) if answer is not None else None
            if response is not None:
                return response
        return self.get_response(request)

    @staticmethod
    def _cached(path: str) -> Callable[[HttpRequest], HttpResponse | None] | None:
        if path == _LIST:
            return lambda request: catalog_reads.anonymous_answer(request, product_id=None)
        match = _PRODUCT.match(path)
        if match:
            return lambda request: catalog_reads.anonymous_answer(request, product_id=int(match.group(1)))
        return None
