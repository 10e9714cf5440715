"""JWT issuing and refresh-token bookkeeping.

Access tokens carry ``user_id``, ``role``, ``email_verified`` and their issue time in milliseconds, so the gateway can
authorise without reading the user tables and still refuse a token issued before its user's access was revoked (a
change to any of these claims revokes the older access tokens, so a client's next refresh picks the new value up).
Refresh tokens also name their family (``family``: every token descended from one sign-in, see
``apps/users/services/sessions.py``). Refresh tokens are single-use: using one blacklists it inside a transaction
that holds its row lock, so two concurrent refreshes with the same token cannot both succeed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from apps.users.models import User
from ecommerce.auth import EMAIL_VERIFIED_CLAIM
from ecommerce.token_revocation import ISSUED_AT_MS_CLAIM, now_ms

ROLE_CLAIM = "role"
FAMILY_CLAIM = "family"


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    refresh_jti: str
    refresh_expires_at: datetime


def issue_tokens(user: User, *, family_id: uuid.UUID) -> IssuedTokens:
    refresh = RefreshToken.for_user(user)
    refresh[ROLE_CLAIM] = str(user.role)
    refresh[EMAIL_VERIFIED_CLAIM] = bool(user.email_verified)
    refresh[FAMILY_CLAIM] = str(family_id)
    # Compared with the user's revocation mark (ecommerce/token_revocation.py), which is kept to the millisecond.
    refresh[ISSUED_AT_MS_CLAIM] = now_ms()
    # The access token copies every claim of the refresh token but its type, id and times, so it gets these too.
    return IssuedTokens(access=str(refresh.access_token), refresh=str(refresh),
                        refresh_jti=str(refresh[api_settings.JTI_CLAIM]),
                        refresh_expires_at=datetime_from_epoch(refresh["exp"]))


class _SignedRefreshToken(RefreshToken):
    """A refresh token checked for signature, expiry and type only. Whether it was already used is decided under
    a row lock by ``consume`` rather than by simplejwt's unlocked look-up."""

    def check_blacklist(self) -> None:
        return None


def read_refresh(raw: str) -> RefreshToken:
    """Raises ``rest_framework_simplejwt.exceptions.TokenError`` when the token is forged, expired or not a refresh."""
    return _SignedRefreshToken(raw)  # type: ignore[arg-type]


def token_user_id(token: RefreshToken) -> int | None:
    try:
        return int(token[api_settings.USER_ID_CLAIM])
    except (KeyError, TypeError, ValueError):
        return None


def token_jti(token: RefreshToken) -> str:
    return str(token[api_settings.JTI_CLAIM])


def token_family_id(token: RefreshToken) -> uuid.UUID | None:
    """None for a token issued before refresh tokens had families (or whose claim is unreadable)."""
    try:
        return uuid.UUID(str(token[FAMILY_CLAIM]))
    except (KeyError, TypeError, ValueError):
        return None


def _locked_outstanding(token: RefreshToken) -> OutstandingToken:
    jti = token[api_settings.JTI_CLAIM]
    # order_by() drops the model's ordering by user, whose outer join PostgreSQL cannot lock.
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).order_by("pk").first()
    if outstanding is None:
        # Issued elsewhere (or its row was flushed): record it so that it can be blacklisted like any other.
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=jti,
            defaults={
                "user_id": token_user_id(token),
                "token": str(token.token),
                "created_at": timezone.now(),
                "expires_at": datetime_from_epoch(token["exp"]),
            },
        )
    return outstanding


def consume(token: RefreshToken) -> bool:
    """Blacklist the token; True only for the one caller that blacklisted it first. Call inside ``atomic``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("consume() must run inside transaction.atomic()")
    _, created = BlacklistedToken.objects.get_or_create(token=_locked_outstanding(token))
    return created


def blacklist_jti(jti: str) -> None:
    """Blacklist a token known only by its id (a family's newest token, when the family ends)."""
    outstanding = OutstandingToken.objects.filter(jti=jti).order_by("pk").first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


def blacklist_all_for_user(user_id: int) -> int:
    """Kill every unexpired refresh token of the user; returns how many were newly blacklisted."""
    live = OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("pk", flat=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live], ignore_conflicts=True
    )
    return len(created)
