"""Signed-in reads of one's own cart answered from the shared cache near the top of the middleware stack.

Showing the cart is what a signed-in shopper does most after browsing, and a current cached answer
(``apps.gateway.api.cart_reads``) needs none of sessions, CSRF, messages, URL resolution or DRF's request cycle. This
middleware sits right after the security headers and static files, and answers ``GET /api/v1/cart`` bearing an
access token that verifies as the API's authentication verifies it (``ecommerce.auth.bearer_principal``) when one
cache round trip says all of: the request is within the user's throttle (it is counted there), the token is not
revoked, and the cart's cached answer is current.

Anything else goes on to the view, which gives the same answer or the proper problem: no token or one that does not
verify (401), a revoked token (401), a throttled caller (429), a cache that does not answer (503), a miss, or a
request the API would treat otherwise (a query string, an ``Accept`` other than JSON). A request counted here keeps
its count on the way (the view's authentication takes it and the revocation mark read with it), so it is counted
and read once whichever path answers it. The tests hold both paths to the same expectations, headers included. A
process that does not serve the public API (a domain role of a split deployment) does not load it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from redis.exceptions import RedisError

from apps.gateway.api import cart_reads
from apps.gateway.api.cart import CartView
from ecommerce.auth import bearer_principal
from ecommerce.logging import bind_route, bind_user
from ecommerce.throttling import count_user_request_early
from ecommerce.token_revocation import mark_key, revoked_by

CART_ROUTE = "api/v1/cart"
_CART_PATH = f"/{CART_ROUTE}"
# DRF answers these with its JSON renderer as it is; any other Accept (or one with parameters) is left to it.
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


class SignedInCartMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if "apps.gateway" not in settings.INSTALLED_APPS:
            raise MiddlewareNotUsed
        self.get_response = get_response
        # What DRF and the clickjacking middleware add to the view's answer, which this one does not pass through.
        view = CartView()
        view.setup(HttpRequest())  # as for every request: Django's view setup answers HEAD wherever there is GET
        self.view_headers = {"Allow": ", ".join(view.allowed_methods)}
        if "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE:
            self.view_headers["X-Frame-Options"] = XFrameOptionsMiddleware(get_response).get_xframe_options_value(
                None, None)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path_info == _CART_PATH:
            response = self._cached(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _cached(self, request: HttpRequest) -> HttpResponse | None:
        meta = request.META
        authorization = meta.get("HTTP_AUTHORIZATION")
        if (not authorization or meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "") not in _PLAIN_ACCEPT
                or not cart_reads.enabled()):
            return None
        signed_in = bearer_principal(authorization)
        if signed_in is None:
            return None
        principal, issued_at_ms = signed_in
        mark = mark_key(principal.id)
        try:
            counted = count_user_request_early(request, CartView, user_id=principal.id,
                                               then_get=[mark, *cart_reads.lookup_keys(principal.id)])
        except (RedisError, OSError):  # the view's authentication meets the outage too, and answers 503
            return None
        if counted is None:
            return None
        allowed, found = counted
        if not allowed or revoked_by(found.get(mark), issued_at_ms=issued_at_ms):
            return None
        body = cart_reads.current_answer(found, user_id=principal.id)
        if body is None:
            return None
        bind_user(user_id=principal.id, role=principal.role.value)
        bind_route(CART_ROUTE)
        response = cart_reads.cart_response(body)
        for header, value in self.view_headers.items():
            response[header] = value
        response["Content-Length"] = str(len(body))
        return response
