"""HMAC signatures for internal calls. The signature covers method, path, timestamp, a nonce and the body, so a
captured request cannot be altered, pointed elsewhere or replayed. Several secrets may be accepted at once so the
shared token can be rotated without downtime."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from django.conf import settings
from django.core.cache import cache

TIMESTAMP_HEADER = "X-Internal-Timestamp"
NONCE_HEADER = "X-Internal-Nonce"
SIGNATURE_HEADER = "X-Internal-Signature"


def _digest(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = b"\n".join([method.upper().encode(), path.encode(), timestamp.encode(), nonce.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    nonce = uuid.uuid4().hex
    signature = _digest(settings.INTERNAL_AUTH_TOKEN, method, path, timestamp, nonce, body)
    return {TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce, SIGNATURE_HEADER: signature}


def verify(method: str, path: str, body: bytes, headers: dict[str, str]) -> bool:
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp.isdigit() and nonce and signature):
        return False
    max_skew = settings.ECOMMERCE_RPC_MAX_CLOCK_SKEW_SECONDS
    if abs(time.time() - int(timestamp)) > max_skew:
        return False
    secrets = [settings.INTERNAL_AUTH_TOKEN, *settings.INTERNAL_AUTH_TOKENS_ACCEPTED]
    if not any(hmac.compare_digest(_digest(s, method, path, timestamp, nonce, body), signature) for s in secrets):
        return False
    # A nonce is accepted once within the window in which its timestamp is valid.
    return cache.add(f"rpc-nonce:{nonce}", 1, timeout=2 * max_skew)
