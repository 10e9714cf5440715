"""Role checks for the public API. An unauthenticated caller gets 401, an authenticated one without the role 403,
and one whose e-mail address is not verified, where the shop requires it, 403 ``email_not_verified``."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ecommerce.errors import EmailNotVerified
from ecommerce.roles import Role


class IsAuthenticatedPrincipal(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user and getattr(request.user, "is_authenticated", False))


def role_required(*roles: Role) -> type[BasePermission]:
    """A permission class admitting the given roles (admins always)."""

    class HasRole(IsAuthenticatedPrincipal):
        required_roles = roles

        def has_permission(self, request: Request, view: object) -> bool:
            return super().has_permission(request, view) and request.user.has_role(*roles)

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole


def principal_has_role(request: Request, *roles: Role) -> bool:
    user = request.user
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*roles))


IsCatalogStaff = role_required(Role.CATALOG_STAFF)
IsOrderStaff = role_required(Role.ORDER_STAFF)
IsAdmin = role_required(Role.ADMIN)


def verified_email_required(request: Request) -> None:
    """Checkout's rule when ``ECOMMERCE_REQUIRE_VERIFIED_EMAIL`` is on. Read from the access token, so it costs no
    call: verifying an address revokes the older access tokens, and the client's refresh brings one that says so."""
    if settings.ECOMMERCE_REQUIRE_VERIFIED_EMAIL and not getattr(request.user, "email_verified", False):
        raise EmailNotVerified("Verify your e-mail address first: open the link we sent you, or ask for a new one "
                               "at /api/v1/auth/verify-email/resend.")
