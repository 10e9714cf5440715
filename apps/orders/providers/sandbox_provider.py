"""The shop's side of the sandbox processor: it calls the processor's API and checks its webhooks with the
processor's own signature scheme, exactly as it would a real processor's (``apps.orders.sandbox_processor``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from apps.orders.sandbox_processor import api as processor
from apps.orders.sandbox_processor.signatures import SIGNATURE_HEADER, SignatureVerificationError, verify_signature
from ecommerce.errors import InvalidTransition, PaymentProviderUnavailable, ValidationFailed, WebhookSignatureInvalid
from ecommerce.money import from_minor_units, to_minor_units

_KINDS = {
    "payment_intent.succeeded": EventKind.SUCCEEDED,
    "payment_intent.payment_failed": EventKind.FAILED,
    "charge.refunded": EventKind.REFUNDED,
}


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    confirms_in_shop = True

    def payment_create(self, *, payment_id: uuid.UUID, amount: Decimal, currency: str,
                       idempotency_key: str) -> CreatedPayment:
        try:
            intent = processor.intent_create(amount=to_minor_units(amount, currency), currency=currency,
                                             metadata={METADATA_PAYMENT_ID: str(payment_id)},
                                             idempotency_key=idempotency_key)
        except processor.ProcessorError as error:
            raise PaymentProviderUnavailable(f"The sandbox refused the payment: {error}") from error
        return CreatedPayment(provider_payment_id=intent.id, client_secret=intent.client_secret)

    def payment_confirm(self, *, provider_payment_id: str, card_number: str) -> None:
        try:
            processor.intent_confirm(intent_id=provider_payment_id, card_number=card_number)
        except processor.UnknownCard as error:
            raise ValidationFailed(str(error), errors={"card_number": [str(error)]}) from error
        except processor.UnexpectedIntentState as error:
            raise InvalidTransition(str(error)) from error
        except processor.ProcessorError as error:
            raise PaymentProviderUnavailable(f"The sandbox refused the confirmation: {error}") from error

    def refund_create(self, *, provider_payment_id: str, amount: Decimal, currency: str,
                      idempotency_key: str) -> CreatedRefund:
        try:
            refund = processor.refund_create(intent_id=provider_payment_id, amount=to_minor_units(amount, currency),
                                             idempotency_key=idempotency_key)
        except processor.ProcessorError as error:
            raise PaymentProviderUnavailable(f"The sandbox refused the refund: {error}") from error
        return CreatedRefund(provider_refund_id=refund.id)

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        try:
            verify_signature(body, headers.get(SIGNATURE_HEADER.lower()),
                             secrets=settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS)
        except SignatureVerificationError as error:
            raise WebhookSignatureInvalid(f"The sandbox signature does not verify: {error}.") from error
        return readable(_parsed, body)


def _parsed(body: bytes) -> VerifiedEvent:
    event: dict[str, Any] = json.loads(body)
    kind = _KINDS.get(event["type"], EventKind.OTHER)
    obj = event["data"]["object"]
    if kind == EventKind.OTHER:
        return VerifiedEvent(event_id=event["id"], type=event["type"], kind=kind)
    is_refund = kind == EventKind.REFUNDED
    currency = obj["currency"].upper()
    error = obj.get("last_payment_error") or {}
    return VerifiedEvent(
        event_id=event["id"], type=event["type"], kind=kind,
        provider_payment_id=obj["payment_intent"] if is_refund else obj["id"],
        payment_id=payment_id_from(obj.get("metadata")),
        amount=from_minor_units(obj["amount_refunded"] if is_refund else obj["amount"], currency),
        currency=currency, failure_message=error.get("message", ""),
    )
