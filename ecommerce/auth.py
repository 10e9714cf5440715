"""Gateway authentication: an access token is verified by signature and expiry, and against the user's revocation
mark in the shared cache (one cache read, no database or network call: ``ecommerce/token_revocation.py``), and yields
a ``Principal`` carrying the user's id, role and whether their e-mail address is verified. Only the users context
reads the user tables; a token stops working within seconds of its user being deactivated, deleted, given another
role or a new password, or of a change to whether their address is verified (the client's refresh then brings a
token saying so)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from ecommerce.logging import bind_user
from ecommerce.roles import STAFF_ROLES, Role
from ecommerce.token_revocation import ISSUED_AT_MS_CLAIM, access_token_revoked

EMAIL_VERIFIED_CLAIM = "email_verified"


@dataclass(frozen=True)
class Principal:
    id: int
    role: Role
    email_verified: bool = False

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles

    def __str__(self) -> str:
        return f"user:{self.id}"


def principal_of(validated_token: Token) -> tuple[Principal, int]:
    """The caller a verified token names, and when it was issued (milliseconds, for the revocation check)."""
    try:
        principal = Principal(id=int(validated_token["user_id"]), role=Role(validated_token["role"]),
                              # A token issued before the claim existed names no verified address.
                              email_verified=validated_token.get(EMAIL_VERIFIED_CLAIM) is True)
        issued_at_ms = int(validated_token.get(ISSUED_AT_MS_CLAIM) or int(validated_token["iat"]) * 1000)
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidToken("Token carries no valid user.") from error
    return principal, issued_at_ms


class _VerifiedTokens:
    """Access tokens this process verified lately, each with the caller it names and when it expires.

    Verifying a token (decoding it, checking its signature, type and expiry) gives the same answer every time until
    it expires, and a signed-in client sends the same token with every request for minutes on end, so the early
    path verifies it once per process and looks it up after, until its ``exp``. Only tokens that verified are kept,
    keyed by the whole token (its signature included), so nothing a client sends can put a caller here that the
    verification did not accept. Revocation is not part of this: the mark is read on every request."""

    MAX_TOKENS = 10_000  # a few MB at most; the oldest go first

    def __init__(self) -> None:
        self._tokens: dict[bytes, tuple[Principal, int, float]] = {}
        self._lock = threading.Lock()

    def get(self, raw_token: bytes) -> tuple[Principal, int] | None:
        found = self._tokens.get(raw_token)
        if found is None:
            return None
        principal, issued_at_ms, expires_at = found
        if time.time() >= expires_at:
            with self._lock:
                self._tokens.pop(raw_token, None)
            return None
        return principal, issued_at_ms

    def put(self, raw_token: bytes, principal: Principal, issued_at_ms: int, expires_at: float) -> None:
        # Every change is made under the lock: dropping the oldest iterates the dict, which must not change meanwhile.
        with self._lock:
            while len(self._tokens) >= self.MAX_TOKENS:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[raw_token] = (principal, issued_at_ms, expires_at)


_verified_tokens = _VerifiedTokens()


def bearer_principal(authorization: str) -> tuple[Principal, int] | None:
    """The caller named by the bearer token of an ``Authorization`` header, and when the token was issued, for a
    path that answers before DRF: the token is verified exactly as ``StatelessJWTAuthentication`` verifies it (once
    per process, see ``_VerifiedTokens``), but not yet checked against revocation (the caller reads the mark,
    ``token_revocation.revoked_by``). None for anything the authentication would not accept as it is; the view's
    authentication then answers it properly."""
    authentication = StatelessJWTAuthentication()
    try:
        raw_token = authentication.get_raw_token(authorization.encode(HTTP_HEADER_ENCODING))
        if raw_token is None:
            return None
        known = _verified_tokens.get(raw_token)
        if known is not None:
            return known
        validated = authentication.get_validated_token(raw_token)
        principal, issued_at_ms = principal_of(validated)
        _verified_tokens.put(raw_token, principal, issued_at_ms, expires_at=float(validated["exp"]))
        return principal, issued_at_ms
    except (AuthenticationFailed, UnicodeEncodeError, KeyError, ValueError, TypeError):
        return None


class StatelessJWTAuthentication(JWTAuthentication):
    # The request being authenticated (DRF makes an authenticator per request): the revocation check reads the mark
    # in the round trip that counts the request against its user's throttle.
    _request: Request | None = None

    def authenticate(self, request: Request) -> tuple[Principal, Token] | None:
        self._request = request
        return super().authenticate(request)

    def get_user(self, validated_token: Token) -> Principal:
        principal, issued_at_ms = principal_of(validated_token)
        if access_token_revoked(user_id=principal.id, issued_at_ms=issued_at_ms, request=self._request):
            raise AuthenticationFailed("This access token has been revoked; sign in again.", code="token_revoked")
        bind_user(user_id=principal.id, role=principal.role.value)
        return principal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
