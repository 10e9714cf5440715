"""Refuses to start a process whose secrets are only safe on a developer's machine.

Rule guarded here: with DEBUG off, no process signs anything with a secret that is empty, short, a default written in
this repository or an obvious placeholder (``change-me``...). That covers ``DJANGO_SECRET_KEY`` (sessions, CSRF,
password-reset links), ``JWT_SIGNING_KEY`` when it is set apart from it (access tokens), the internal RPC token and
every token still accepted during a rotation, ``ECOMMERCE_METRICS_TOKEN`` when metrics are exposed, and the payment
provider's secrets where payments are handled (the monolith and the orders role): every sandbox webhook secret when
the sandbox takes payments (anyone holding it could mark orders paid), Stripe's API key and webhook secrets when Stripe
does.

The internal token is required only where internal calls are signed or accepted: by every role of a split
deployment, and wherever contract calls are forced through the loopback path. The monolith serves no internal
endpoint and calls every contract in-process, so it needs no internal token at all.

Every settings module a process can be started with (``local``, ``production``, ``test``, and ``base`` when it is
named directly) ends by calling :func:`refuse_unsafe_settings`, so the refusal happens at import time in gunicorn,
Celery and ``manage.py`` alike, before anything is served. This module must not import Django's settings or an app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ecommerce.deployment import SERVICE_OWNERS, SPLIT

DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me"
DEVELOPMENT_INTERNAL_TOKEN = "insecure-internal-token-change-me"
DEVELOPMENT_SANDBOX_WEBHOOK_SECRET = "insecure-sandbox-webhook-secret-change-me"
# Django's own deployment check wants at least this many characters in SECRET_KEY (security.W009).
SECRET_KEY_MIN_LENGTH = 50
TOKEN_MIN_LENGTH = 32
_PLACEHOLDER_MARKERS = ("insecure", "change-me", "changeme", "not-for-production", "build-only", "django-insecure")


def weakness(value: str, *, min_length: int) -> str | None:
    """Why ``value`` is not fit to sign anything outside a developer's machine, or None when it is."""
    if not value:
        return "is empty"
    if value in {DEVELOPMENT_SECRET_KEY, DEVELOPMENT_INTERNAL_TOKEN, DEVELOPMENT_SANDBOX_WEBHOOK_SECRET}:
        return "is the development default"
    lowered = value.lower()
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return "is a placeholder"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if len(set(value)) < 5:
        return "repeats too few characters"
    return None


def signs_internal_calls(values: Mapping[str, Any]) -> bool:
    return values["ECOMMERCE_DEPLOYMENT_MODE"] == SPLIT or bool(values["ECOMMERCE_RPC_LOOPBACK"])


def handles_payments(values: Mapping[str, Any]) -> bool:
    """Payments belong to the orders service: the monolith, or the role that owns it."""
    return (values["ECOMMERCE_DEPLOYMENT_MODE"] != SPLIT
            or values["ECOMMERCE_SERVICE_ROLE"] == SERVICE_OWNERS["orders"])


def _payment_complaints(values: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Missing payment settings, and the payment secrets to check, of a process that handles payments."""
    if values["ECOMMERCE_PAYMENT_PROVIDER"] == "sandbox":
        sandbox_secrets = values["ECOMMERCE_SANDBOX_WEBHOOK_SECRETS"]
        missing = [] if sandbox_secrets else ["ECOMMERCE_SANDBOX_WEBHOOK_SECRETS is empty"]
        return missing, [("ECOMMERCE_SANDBOX_WEBHOOK_SECRETS", secret, TOKEN_MIN_LENGTH) for secret in sandbox_secrets]
    # Stripe's own key and secret formats are Stripe's business; they only have to be there.
    missing = [f"{name} is empty" for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS") if not values[name]]
    return missing, []


def unsafe_settings(values: Mapping[str, Any]) -> list[str]:
    """Every complaint about ``values`` (a settings module's globals); empty when the process may start."""
    if values["DEBUG"]:
        return []
    secrets: list[tuple[str, str, int]] = [("DJANGO_SECRET_KEY", values["SECRET_KEY"], SECRET_KEY_MIN_LENGTH)]
    jwt_key = values["SIMPLE_JWT"]["SIGNING_KEY"]
    if jwt_key != values["SECRET_KEY"]:
        secrets.append(("JWT_SIGNING_KEY", jwt_key, TOKEN_MIN_LENGTH))
    if signs_internal_calls(values):
        secrets.append(("INTERNAL_AUTH_TOKEN", values["INTERNAL_AUTH_TOKEN"], TOKEN_MIN_LENGTH))
        secrets += [("INTERNAL_AUTH_TOKENS_ACCEPTED", accepted, TOKEN_MIN_LENGTH)
                    for accepted in values["INTERNAL_AUTH_TOKENS_ACCEPTED"]]
    if values["ECOMMERCE_METRICS_TOKEN"]:
        secrets.append(("ECOMMERCE_METRICS_TOKEN", values["ECOMMERCE_METRICS_TOKEN"], TOKEN_MIN_LENGTH))
    missing: list[str] = []
    if handles_payments(values):
        missing, payment_secrets = _payment_complaints(values)
        secrets += payment_secrets
    return missing + [f"{name} {problem}" for name, value, min_length in secrets
                      if (problem := weakness(value, min_length=min_length))]


def refuse_unsafe_settings(values: Mapping[str, Any]) -> None:
    complaints = unsafe_settings(values)
    if complaints:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_DEBUG off: " + "; ".join(complaints)
            + ". Set each to a long random value (e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
