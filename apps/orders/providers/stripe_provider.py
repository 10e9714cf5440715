"""Stripe, through the official ``stripe`` package: payment intents for the order total in the currency's minor
units, refunds, and Stripe's own webhook verification (``Stripe-Signature``, checked by ``stripe.Webhook``).

Every call that creates something carries the shop's idempotency key (Stripe keeps keys for 24 hours, and a refund
retried after that finds the charge already refunded, which counts as done). The shopper confirms on Stripe's side
(Stripe.js with the ``client_secret``); the shop learns the outcome from ``payment_intent.succeeded`` and
``payment_intent.payment_failed``, and of refunds from ``charge.refunded``. ``STRIPE_WEBHOOK_SECRETS`` may hold
several signing secrets while one is being rolled."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from apps.orders.providers.base import (
    METADATA_PAYMENT_ID,
    CreatedPayment,
    CreatedRefund,
    EventKind,
    PaymentProvider,
    VerifiedEvent,
    payment_id_from,
    readable,
)
from ecommerce.errors import PaymentProviderUnavailable, WebhookSignatureInvalid
from ecommerce.money import from_minor_units, to_minor_units

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
REQUEST_TIMEOUT_SECONDS = 10
# Stripe retries a failed request itself, with the same idempotency key.
NETWORK_RETRIES = 2

_KINDS = {
    "payment_intent.succeeded": EventKind.SUCCEEDED,
    "payment_intent.payment_failed": EventKind.FAILED,
    "charge.refunded": EventKind.REFUNDED,
}


def http_client() -> stripe.HTTPClient:
    """The transport under the Stripe client (tests put a fake Stripe behind it; nothing else is replaced)."""
    return stripe.HTTPXClient(timeout=REQUEST_TIMEOUT_SECONDS, allow_sync_methods=True)


class StripeProvider(PaymentProvider):
    name = "stripe"

    def _client(self) -> stripe.StripeClient:
        if not settings.STRIPE_SECRET_KEY:
            raise PaymentProviderUnavailable("Stripe is not configured (STRIPE_SECRET_KEY).")
        return stripe.StripeClient(api_key=settings.STRIPE_SECRET_KEY, http_client=http_client(),
                                   max_network_retries=NETWORK_RETRIES)

    def payment_create(self, *, payment_id: uuid.UUID, amount: Decimal, currency: str,
                       idempotency_key: str) -> CreatedPayment:
        try:
            intent = self._client().v1.payment_intents.create(
                params={"amount": to_minor_units(amount, currency), "currency": currency.lower(),
                        "metadata": {METADATA_PAYMENT_ID: str(payment_id)},
                        "automatic_payment_methods": {"enabled": True}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _unavailable("creating a payment intent", error) from error
        return CreatedPayment(provider_payment_id=intent.id, client_secret=intent.client_secret or "")

    def refund_create(self, *, provider_payment_id: str, amount: Decimal, currency: str,
                      idempotency_key: str) -> CreatedRefund:
        try:
            refund = self._client().v1.refunds.create(
                params={"payment_intent": provider_payment_id, "amount": to_minor_units(amount, currency)},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            if error.code == "charge_already_refunded":
                return CreatedRefund(provider_refund_id="")
            raise _unavailable("refunding", error) from error
        except stripe.StripeError as error:
            raise _unavailable("refunding", error) from error
        return CreatedRefund(provider_refund_id=refund.id)

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        header = headers.get(SIGNATURE_HEADER.lower())
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookSignatureInvalid("A Stripe event is UTF-8 JSON; this body is not.") from None
        secrets = settings.STRIPE_WEBHOOK_SECRETS
        for secret in secrets:
            try:
                event = stripe.Webhook.construct_event(payload, header, secret)
            except stripe.SignatureVerificationError:
                continue
            # Signed, yet not an event this API version understands (or JSON nested deeper than the parser goes).
            except (ValueError, RecursionError) as error:
                raise WebhookSignatureInvalid("The signed body is not a Stripe event.") from error
            return readable(_parsed, event.to_dict())
        reason = "no Stripe webhook secret is configured" if not secrets else "no accepted secret signed it"
        raise WebhookSignatureInvalid(f"The Stripe signature does not verify: {reason}, or it is missing or stale.")


def _unavailable(action: str, error: stripe.StripeError) -> PaymentProviderUnavailable:
    logger.warning("Stripe failed %s: %s (%s)", action, type(error).__name__, getattr(error, "code", None))
    return PaymentProviderUnavailable(f"Stripe failed {action}; nothing was charged or refunded twice. Retry later.")


def _parsed(event: dict[str, Any]) -> VerifiedEvent:
    kind = _KINDS.get(event["type"], EventKind.OTHER)
    if kind == EventKind.OTHER:
        return VerifiedEvent(event_id=event["id"], type=event["type"], kind=kind)
    obj = event["data"]["object"]
    currency = str(obj["currency"]).upper()
    if kind == EventKind.REFUNDED:
        provider_payment_id, units = obj.get("payment_intent") or "", obj["amount_refunded"]
    elif kind == EventKind.SUCCEEDED:
        provider_payment_id, units = obj["id"], obj.get("amount_received") or obj["amount"]
    else:
        provider_payment_id, units = obj["id"], obj["amount"]
    error = obj.get("last_payment_error") or {}
    return VerifiedEvent(
        event_id=event["id"], type=event["type"], kind=kind, provider_payment_id=provider_payment_id,
        payment_id=payment_id_from(obj.get("metadata")), amount=from_minor_units(int(units), currency),
        currency=currency, failure_message=str(error.get("message") or ""),
    )
