"""Staff sign-in to the admin of a role that does not own the users tables (split deployment).

Design. Only the users role knows passwords. The products, carts and orders roles each serve the Django admin for
their own models; a member of staff signs in there with their normal e-mail and password, and
``ContractStaffBackend`` checks them through the users contract (``auth_login``), exactly as the public login does.
On success the role writes a *shadow* row of the user into its own ``users_user`` table — same id, e-mail, name,
role and active flag, and an unusable password — because Django's sessions, permission checks and admin log need a
local row to point at. Saving the row derives ``is_staff``/``is_superuser`` from the role and puts the user in the
group named after the role (``User.save``), and each app's migrations grant their admin permissions to those groups
in the role's own database, so what a catalog_staff member may do in the products admin is decided locally.

The shadow is a cache, never a source of truth: it is refreshed at every sign-in and, for a running session, at
most every ``SHADOW_REFRESH_SECONDS`` from ``users_service.user_get``; a user deactivated or deleted in the users
context loses admin access at that refresh. While the users role is unreachable, sign-in fails and existing
sessions keep the last known role. The refresh token that ``auth_login`` issues is revoked at once (the admin runs
on a session, not on tokens). Passwords are never stored outside the users role, and the shadow row cannot be used
to sign in on its own: this backend is the only one such a role enables.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from ecommerce.errors import ContractError, InvalidCredentials, NotFound, RemoteServiceError

logger = logging.getLogger(__name__)

SHADOW_REFRESH_SECONDS = 300


def sync_shadow_user(user_dto: Any) -> Any:
    """Create or update the local shadow of a users-context user. Returns the local row."""
    user_model = get_user_model()
    with transaction.atomic():
        # An e-mail freed in the users context (account deleted, address re-used) may still sit on an old shadow.
        stale = user_model.objects.filter(email__iexact=user_dto.email).exclude(pk=user_dto.id)
        for row in stale:
            row.email = f"stale-{row.pk}@shadow.invalid"
            row.is_active = False
            row.save()
        user = user_model.objects.filter(pk=user_dto.id).first() or user_model(pk=user_dto.id)
        user.email = user_dto.email
        user.name = user_dto.name
        user.role = user_dto.role
        user.is_active = user_dto.is_active
        user.date_joined = user_dto.date_joined
        if user.has_usable_password():
            # Only once: a new unusable value would change the session hash and sign the user out.
            user.set_unusable_password()
        user.save()
    cache.set(_fresh_key(user.pk), 1, timeout=SHADOW_REFRESH_SECONDS)
    return user


def _fresh_key(user_id: int) -> str:
    return f"shadow-user-fresh:{user_id}"


class ContractStaffBackend(ModelBackend):
    """Authenticates against the users contract; permissions come from the local groups (``ModelBackend``)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     email: str | None = None, **kwargs: Any) -> Any:
        from ecommerce.contracts.users import users_service

        login = email or username or kwargs.get("email")
        if not login or password is None:
            return None
        try:
            result = users_service.auth_login(email=login, password=password)
        except InvalidCredentials:
            return None
        except ContractError as error:
            logger.warning("staff sign-in through the users contract failed: %s", error.code)
            return None
        try:
            users_service.auth_logout(user_id=result.user.id, refresh=result.refresh)
        except ContractError as error:  # the token expires on its own; sign-in need not fail for it
            logger.warning("could not revoke the sign-in refresh token: %s", error.code)
        user = sync_shadow_user(result.user)
        return user if self.user_can_authenticate(user) else None

    def get_user(self, user_id: int) -> Any:
        user = super().get_user(user_id)
        if user is None or cache.get(_fresh_key(user.pk)):
            return user
        from ecommerce.contracts.users import users_service

        try:
            user = sync_shadow_user(users_service.user_get(user_id=user.pk))
        except NotFound:
            user.is_active = False
            user.save(update_fields=["is_active"])
            return None
        except RemoteServiceError as error:
            logger.warning("users service unreachable; keeping the shadow of user %s: %s", user_id, error.code)
            return user
        return user if self.user_can_authenticate(user) else None
