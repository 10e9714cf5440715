"""The processor's API, as a real processor serves it over HTTPS: create an intent, let the shopper confirm it with
a card, refund it. Creations and refunds are idempotent by the caller's key; a confirmation happens at most once per
intent (the row lock decides between two racing ones). Every change that the shop must hear about writes its webhook
event in the same transaction, delivered after commit (``delivery``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders.sandbox_processor import delivery
from apps.orders.sandbox_processor.models import Intent, Refund


@dataclass(frozen=True)
class SandboxCard:
    succeeds: bool
    decline_code: str = ""
    message: str = ""


TEST_CARDS: dict[str, SandboxCard] = {
    "4242424242424242": SandboxCard(succeeds=True),
    "4000000000000002": SandboxCard(succeeds=False, decline_code="card_declined", message="Your card was declined."),
}


class ProcessorError(Exception):
    """A request the processor refuses; nothing changed."""


class UnknownCard(ProcessorError):
    pass


class IntentNotFound(ProcessorError):
    pass


class UnexpectedIntentState(ProcessorError):
    pass


class IdempotencyKeyReused(ProcessorError):
    pass


def _digits(card_number: str) -> str:
    return re.sub(r"[\s-]", "", card_number)


def intent_create(*, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str) -> Intent:
    """A new intent awaiting the shopper's card, or the one this key already made (same amount and currency)."""
    currency = currency.lower()
    existing = Intent.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Intent.objects.create(
                    amount=amount, currency=currency, metadata=metadata, idempotency_key=idempotency_key,
                    client_secret=f"sbx_secret_{secrets.token_urlsafe(24)}",
                )
        except IntegrityError:
            existing = Intent.objects.get(idempotency_key=idempotency_key)
    if (existing.amount, existing.currency) != (amount, currency):
        raise IdempotencyKeyReused("This idempotency key was used for another amount or currency.")
    return existing


def intent_confirm(*, intent_id: str, card_number: str) -> Intent:
    """The shopper pays with ``card_number`` on the processor's page: a test card succeeds or is declined, any other
    number is refused. Either outcome is announced to the shop by webhook only."""
    card = TEST_CARDS.get(_digits(card_number))
    if card is None:
        raise UnknownCard("Use a sandbox test card: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.")
    with transaction.atomic():
        intent = Intent.objects.select_for_update().filter(pk=intent_id).first()
        if intent is None:
            raise IntentNotFound(f"No intent {intent_id}.")
        if intent.status != Intent.Status.REQUIRES_CONFIRMATION:
            raise UnexpectedIntentState(f"This payment was already {intent.status}.")
        intent.card_last4 = _digits(card_number)[-4:]
        intent.confirmed_at = timezone.now()
        if card.succeeds:
            intent.status = Intent.Status.SUCCEEDED
            event_type, error = "payment_intent.succeeded", None
        else:
            intent.status = Intent.Status.DECLINED
            intent.decline_code = card.decline_code
            event_type, error = "payment_intent.payment_failed", {"code": card.decline_code, "message": card.message}
        intent.save()
        delivery.event_announce(event_type, {**_intent_object(intent), "last_payment_error": error})
    return intent


def refund_create(*, intent_id: str, amount: int, idempotency_key: str) -> Refund:
    """Give back ``amount`` of a succeeded intent, or return the refund this key already made."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if (existing.intent_id, existing.amount) != (intent_id, amount):
            raise IdempotencyKeyReused("This idempotency key was used for another refund.")
        return existing
    with transaction.atomic():
        intent = Intent.objects.select_for_update().filter(pk=intent_id).first()
        if intent is None:
            raise IntentNotFound(f"No intent {intent_id}.")
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:  # made by a request that held the lock before us
            return existing
        if intent.status != Intent.Status.SUCCEEDED:
            raise UnexpectedIntentState(f"Only a succeeded payment can be refunded; this one is {intent.status}.")
        if amount <= 0 or intent.amount_refunded + amount > intent.amount:
            raise UnexpectedIntentState("The refund would exceed what was paid.")
        refund = Refund.objects.create(intent=intent, amount=amount, idempotency_key=idempotency_key)
        intent.amount_refunded += amount
        intent.save(update_fields=["amount_refunded"])
        delivery.event_announce("charge.refunded", {
            "id": f"ch_{intent.id}", "object": "charge", "payment_intent": intent.id, "amount": intent.amount,
            "amount_refunded": intent.amount_refunded, "currency": intent.currency,
            "refunded": intent.amount_refunded == intent.amount, "metadata": intent.metadata, "refund": refund.id,
        })
    return refund


def _intent_object(intent: Intent) -> dict[str, Any]:
    return {
        "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency,
        "status": intent.status, "metadata": intent.metadata,
    }
