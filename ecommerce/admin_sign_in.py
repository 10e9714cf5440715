"""Sign-in to any Django admin counts against the same limits, in the same shared counters, as the API's login.

django-axes hooks the admin's authentication: ``AdminSignInLimitBackend`` comes first in every admin-serving
process's ``AUTHENTICATION_BACKENDS`` and asks the handler before any password is checked; Django's sign-in signals
tell the handler how it went; ``AxesMiddleware`` turns a refusal into the answer of :func:`lockout_response`. The
counting itself is not axes's: ``SharedLoginLimitsHandler`` takes a :class:`~ecommerce.auth_limits.LoginAttempt`
exactly as the API's login view does, so an attacker who switches between ``/api/v1/auth/login`` and any role's
``/admin/login/`` meets one set of limits (``ECOMMERCE_THROTTLE_LOGIN_FAILURES_*``). In a split deployment every
domain role serves an admin and shares the cache with the gateway, so all of them count together.

Only sign-ins that come with an HTTP request are counted here. The users contract's ``auth_login`` authenticates
without one; the caller that received the client's request has already counted that attempt (the gateway's login
view, or this backend in the role whose admin the member of staff is signing in to).
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_username
from django.http import HttpRequest, HttpResponse

from ecommerce.admin_error_pages import admin_error_page
from ecommerce.auth_limits import LoginAttempt
from ecommerce.throttling import client_ip

_ATTEMPT = "shop_login_attempt"
_RETRY_AFTER = "shop_login_retry_after"
_LOCKED_SCOPE = "shop_login_locked_scope"
# What is locked, in the words of the person refused (``Limit.scope`` of the limit that refused the attempt).
_LOCKED = {
    "account_client": "this account is locked for sign-ins from your network",
    "client": "sign-ins from your network are locked",
    "account": "this account is locked for sign-ins from everywhere",
}


class AdminSignInLimitBackend(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SharedLoginLimitsHandler(AbstractAxesHandler, AxesBaseHandler):
    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        attempt = LoginAttempt(email=get_client_username(request, credentials) or "", client=client_ip(request))
        wait = attempt.begin()
        if wait is not None:
            setattr(request, _RETRY_AFTER, wait)
            setattr(request, _LOCKED_SCOPE, attempt.refused_by.scope if attempt.refused_by else "")
            return False
        setattr(request, _ATTEMPT, attempt)
        return True

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        attempt = getattr(request, _ATTEMPT, None)
        if attempt is not None:  # a successful sign-in is not counted
            attempt.succeeded()

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                          **kwargs: Any) -> None:
        """The failure already holds the slot it took in ``is_allowed``."""

    def user_logged_out(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        """Signing out changes no counter."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Unused: ``is_allowed`` decides from the shared counters."""
        return 0


def roughly(seconds: int) -> str:
    """A wait as a person says it: the page is read, not parsed (``Retry-After`` has the exact seconds)."""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's own page (429) saying what is locked and for about how long."""
    wait = getattr(request, _RETRY_AFTER, 60)
    locked = _LOCKED.get(getattr(request, _LOCKED_SCOPE, ""), "sign-ins are locked")
    response = admin_error_page(request, 429, f"Too many failed sign-ins: {locked}. Try again in {roughly(wait)}, "
                                              "or reset your password.")
    response["Retry-After"] = str(wait)
    return response
