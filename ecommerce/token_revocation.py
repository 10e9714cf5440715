"""Access tokens stop working within seconds of the event that should end them, with no database read per request.

Rule guarded here: when the users context deactivates or deletes a user, or changes their role or password, it
records in the shared cache that the user's access tokens issued before that moment are revoked; the gateway's
authentication reads that one key on every authenticated request and refuses an older token (401). The mark lives
as long as an access token does, after which every token it could refuse has expired anyway, so the cache holds at
most one small key per user changed in the last quarter of an hour.

Tokens say when they were issued to the millisecond (claim ``iat_ms``; the standard ``iat`` is whole seconds, and a
token signed in the same second right after a password change must stay valid). Tokens and marks are both made by
the users context, on one clock. On an API request the mark is read in the same round trip that counts the request
against its user's throttle (``ecommerce/throttling.py``).

When the cache cannot be read, authenticated requests answer 503 (fail closed): accepting tokens that cannot be
checked would let a deactivated or demoted account carry on for as long as the outage lasts. Every throttle needs the
same cache, so an outage already stops the API; this only keeps it from failing open.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from ecommerce.errors import ServiceUnavailable
from ecommerce.throttling import count_user_request

logger = logging.getLogger(__name__)

ISSUED_AT_MS_CLAIM = "iat_ms"


def mark_key(user_id: int) -> str:
    """The cache key of the user's revocation mark: the time (ms) before which their access tokens are revoked."""
    return f"auth:revoked-before:{user_id}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def access_tokens_revoke(*, user_id: int) -> None:
    """Every access token of the user issued until now stops working. Raises ``ServiceUnavailable`` when the mark
    cannot be written, so a caller inside a transaction rolls the change back rather than keep it unenforced."""
    lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    try:
        cache.set(mark_key(user_id), now_ms(), timeout=lifetime + 60)
    except Exception as error:  # any cache failure: the revocation did not happen
        logger.warning("could not revoke the access tokens of user %s: %s", user_id, type(error).__name__)
        raise ServiceUnavailable("Access cannot be revoked right now; nothing was changed.") from error


def access_token_revoked(*, user_id: int, issued_at_ms: int, request: Any = None) -> bool:
    """Whether the token was revoked. Given the API ``request``, the mark is read in the round trip that counts the
    request against its user's throttle (``count_user_request``), so a signed-in request costs one round trip."""
    key = mark_key(user_id)
    try:
        found = count_user_request(request, user_id=user_id, then_get=[key]) if request is not None else None
        revoked_before = found.get(key) if found is not None else cache.get(key)
    except Exception as error:  # fail closed: see the module's docstring
        logger.warning("could not check the revocation of user %s: %s", user_id, type(error).__name__)
        raise ServiceUnavailable("Access tokens cannot be checked right now; try again shortly.") from error
    # A revoked token's request, counted with the read, is given back by the API's exception handler.
    return revoked_by(revoked_before, issued_at_ms=issued_at_ms)


def revoked_by(mark: object, *, issued_at_ms: int) -> bool:
    """Whether the user's revocation mark (the value under ``mark_key``, None without one) revokes a token issued
    at ``issued_at_ms``."""
    return mark is not None and issued_at_ms < int(mark)
