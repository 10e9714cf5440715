"""Role checks for the public API. An unauthenticated caller gets 401, an authenticated one without the role 403."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

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
