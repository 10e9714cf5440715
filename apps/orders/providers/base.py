"""What the shop needs from a payment provider, whichever it is: create a payment for an amount, refund it, verify
its webhooks into a parsed event; and, for the sandbox only, play the shopper's confirmation step.

Rules every provider keeps:
- Calls that move money take the shop's idempotency key, so a retry after a timeout never charges or refunds twice.
- ``webhook_verify`` checks the signature over the exact bytes received before it parses anything, and raises
  ``WebhookSignatureInvalid`` for a missing, wrong or stale signature.
- Expected refusals are typed errors (``ecommerce.errors``); a provider that cannot be reached, or fails, raises
  ``PaymentProviderUnavailable`` with no internals.
- Amounts are ``Decimal`` in the shop's currency; conversion to the provider's minor units is ``ecommerce.money``'s.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, TypeVar

from ecommerce.errors import ConfirmationNotSupported, ValidationFailed
from ecommerce.money import MAX_AMOUNT

T = TypeVar("T")

# The metadata key under which the shop gives each provider payment its own payment id.
METADATA_PAYMENT_ID = "shop_payment_id"


class EventKind(StrEnum):
    """What a provider event means to the shop."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    OTHER = "other"  # anything the shop does not act on


@dataclass(frozen=True)
class CreatedPayment:
    provider_payment_id: str
    client_secret: str


@dataclass(frozen=True)
class CreatedRefund:
    provider_refund_id: str


@dataclass(frozen=True)
class VerifiedEvent:
    """A webhook event whose signature was checked. ``payment_id`` is the shop's id, as the shop gave it to the
    provider with the payment; ``amount`` and ``currency`` are what the event says was paid (or refunded)."""

    event_id: str
    type: str
    kind: EventKind
    provider_payment_id: str = ""
    payment_id: uuid.UUID | None = None
    amount: Decimal | None = None
    currency: str = ""
    failure_message: str = ""


class PaymentProvider(abc.ABC):
    name: ClassVar[str]
    # Whether the shop may play the shopper's confirmation step (the sandbox); real providers confirm on their page.
    confirms_in_shop: ClassVar[bool] = False

    @abc.abstractmethod
    def payment_create(self, *, payment_id: uuid.UUID, amount: Decimal, currency: str,
                       idempotency_key: str) -> CreatedPayment: ...

    @abc.abstractmethod
    def refund_create(self, *, provider_payment_id: str, amount: Decimal, currency: str,
                      idempotency_key: str) -> CreatedRefund: ...

    @abc.abstractmethod
    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent: ...

    def payment_confirm(self, *, provider_payment_id: str, card_number: str) -> None:
        """Only where ``confirms_in_shop``."""
        raise ConfirmationNotSupported(f"A {self.name} payment is confirmed on the provider's page.")


def payment_id_from(metadata: Mapping[str, object] | None) -> uuid.UUID | None:
    """The shop's payment id a provider echoes back in the payment's metadata; None when absent or not ours."""
    value = (metadata or {}).get(METADATA_PAYMENT_ID)
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def readable(parse: Callable[[T], VerifiedEvent], signed_body: T) -> VerifiedEvent:
    """A signed body comes from the provider, yet a shape this shop does not read (an API version it was not written
    for, an id or amount beyond what it records, JSON nested deeper than the parser goes) is a 400 like any
    unreadable request, never a crash."""
    try:
        event = parse(signed_body)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError) as error:
        raise _unreadable(type(error).__name__) from error
    if not (isinstance(event.event_id, str) and 0 < len(event.event_id) <= 255
            and isinstance(event.type, str) and len(event.type) <= 100):
        raise _unreadable("its id or type")
    if event.kind != EventKind.OTHER and not (
            event.amount is not None and 0 <= event.amount <= MAX_AMOUNT and len(event.currency) == 3
            and len(event.provider_payment_id) <= 255):
        raise _unreadable("its amount, currency or payment")
    return event


def _unreadable(what: str) -> ValidationFailed:
    return ValidationFailed("The signed event is not in a shape this shop reads.",
                            errors={"body": [f"Unreadable event: {what}."]})
