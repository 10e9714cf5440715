"""How the processor signs its webhooks, and how a receiver checks them: what a processor's SDK would ship.

The header ``Sandbox-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`` carries one HMAC-SHA256 of
``"<t>.<raw body>"`` per secret the processor signs with, so a secret can be rotated without a gap: the processor
signs with the old and the new one for a while, and a receiver accepts either. A receiver must check the exact bytes
it received, before parsing them, and refuse a timestamp more than ``TOLERANCE_SECONDS`` away from its clock, which
bounds how long a captured request could be replayed."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Sandbox-Signature"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


class SignatureVerificationError(Exception):
    """The header is missing or malformed, no signature matches an accepted secret, or the timestamp is stale."""


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(body: bytes, *, secrets: Sequence[str], timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={timestamp}", *(f"{SCHEME}={_signature(secret, timestamp, body)}" for secret in secrets)])


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureVerificationError("the timestamp is not a number") from None
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureVerificationError(f"the header carries no timestamp or no {SCHEME} signature")
    return timestamp, signatures


def verify_signature(body: bytes, header: str | None, *, secrets: Sequence[str],
                     tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Return quietly when ``body`` was signed, within ``tolerance`` seconds of ``now``, with one of ``secrets``."""
    if not header:
        raise SignatureVerificationError(f"no {SIGNATURE_HEADER} header")
    if not secrets:
        raise SignatureVerificationError("no secret to check against is configured")
    timestamp, signatures = _parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureVerificationError("the timestamp is outside the tolerance")
    expected = [_signature(secret, timestamp, body) for secret in secrets]
    # Every pair is compared, in constant time each, so timing says nothing about which secret or signature matched.
    matches = [hmac.compare_digest(candidate, signature) for candidate in expected for signature in signatures]
    if not any(matches):
        raise SignatureVerificationError("no signature matches an accepted secret")
