"""Idempotency keys of checkout: one ``Idempotency-Key`` of one user makes at most one checkout, and its first answer
is the answer for as long as the key is kept (``ECOMMERCE_IDEMPOTENCY_TTL_SECONDS``).

Rules guarded here:
- The unique (user, key) constraint decides a race: of two requests with one key exactly one inserts the attempt
  (one INSERT, its own transaction); the other replays the winner's answer, or is told it is still running (409), or
  that the key was used with another request (422).
- The first answer is stored with the attempt and replayed verbatim: the order body exactly as first returned (a
  later cancellation does not change the replay), or the typed error it failed with.
- An answer that says nothing about the request (a service was unreachable, another checkout of the cart was
  running) is not stored: the key is given back so that a retry runs.
- An attempt still in progress after ``STALE_ATTEMPT_SECONDS`` belongs to a process that died; the next request with
  the key takes it over under a new order id (one conditional UPDATE picks one taker), and the old claimant, should
  it still be alive, finds its order id gone when it tries to write its order.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders.models import CheckoutAttempt
from ecommerce.contracts.orders import CheckoutResult, OrderDTO
from ecommerce.errors import (
    CartCheckoutInProgress,
    ContractError,
    IdempotencyConflict,
    IdempotencyInProgress,
    RemoteServiceError,
)

STALE_ATTEMPT_SECONDS = 60
# Failures that describe the moment, not the request: a retry with the same key may well succeed.
TRANSIENT_ERRORS = (RemoteServiceError, CartCheckoutInProgress, IdempotencyInProgress)


@dataclass(frozen=True)
class CheckoutClaim:
    """This request owns the attempt as long as the attempt still carries ``order_id``."""

    attempt_id: int
    order_id: uuid.UUID
    # The order id a dead predecessor may have claimed the cart and reserved stock under; this checkout takes both
    # over (or gives them back if it fails).
    abandoned_order_id: uuid.UUID | None = None


def checkout_attempt_claim(*, user_id: int, idempotency_key: str,
                           request_fingerprint: str) -> CheckoutClaim | CheckoutResult:
    """Claim the key for this request, or answer from the attempt that already holds it. A fresh key (the usual
    case) costs one INSERT; only a key already held is read, and forgotten first if it outlived its TTL."""
    for _ in range(3):
        now = timezone.now()
        order_id = uuid.uuid4()
        try:
            with _failing_alone():
                attempt = CheckoutAttempt.objects.create(
                    user_id=user_id, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint,
                    order_id=order_id, created_at=now, updated_at=now,
                )
            return CheckoutClaim(attempt_id=attempt.pk, order_id=order_id)
        except IntegrityError:
            existing = CheckoutAttempt.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
        if existing is None:
            continue  # its run failed unexpectedly and gave the key back: claim it again
        if existing.created_at < _expired_before(now):
            # Kept past its TTL (the purge has not come by yet): the key starts a new checkout.
            CheckoutAttempt.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        answer = _answer_from_existing_attempt(existing, request_fingerprint=request_fingerprint, now=now)
        if answer is not None:
            return answer
    raise IdempotencyInProgress()


def _failing_alone() -> AbstractContextManager[object]:
    """A statement that may break the unique key: alone it is its own transaction (no BEGIN and COMMIT round trips
    around it); inside a caller's transaction a savepoint keeps its failure from aborting that transaction."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def _expired_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS)


def _answer_from_existing_attempt(existing: CheckoutAttempt, *, request_fingerprint: str,
                                  now: datetime) -> CheckoutClaim | CheckoutResult | None:
    if existing.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request.")
    if existing.state == CheckoutAttempt.State.SUCCEEDED:
        return CheckoutResult(order=OrderDTO.model_validate(existing.order_answer), replayed=True)
    if existing.state == CheckoutAttempt.State.FAILED:
        error = ContractError.from_payload(existing.error or {})
        error.extra["replayed"] = True
        raise error
    if existing.updated_at > now - timedelta(seconds=STALE_ATTEMPT_SECONDS):
        raise IdempotencyInProgress()
    new_order_id = uuid.uuid4()
    taken = CheckoutAttempt.objects.filter(
        pk=existing.pk, state=CheckoutAttempt.State.IN_PROGRESS, updated_at=existing.updated_at
    ).update(order_id=new_order_id, updated_at=now)
    if not taken:
        return None  # someone else moved it on: read it again
    return CheckoutClaim(attempt_id=existing.pk, order_id=new_order_id, abandoned_order_id=existing.order_id)


def _still_ours(claim: CheckoutClaim):
    return CheckoutAttempt.objects.filter(
        pk=claim.attempt_id, order_id=claim.order_id, state=CheckoutAttempt.State.IN_PROGRESS
    )


def checkout_attempt_succeed(claim: CheckoutClaim, *, answer: OrderDTO) -> None:
    """Last in the order's own transaction, so the attempt succeeded exactly when the order exists. One conditional
    UPDATE both proves the attempt is still this request's and stores the answer; if a newer request with the same
    key took it over meanwhile, it refuses and the order's transaction rolls back."""
    stored = _still_ours(claim).update(state=CheckoutAttempt.State.SUCCEEDED,
                                       order_answer=answer.model_dump(mode="json"), updated_at=timezone.now())
    if not stored:
        raise IdempotencyInProgress("This checkout was taken over by a newer request with the same key.")


def checkout_attempt_fail(claim: CheckoutClaim, error: ContractError) -> None:
    """An answer about the request (empty cart, unknown address, short stock) is kept for a replay; a transient one
    gives the key back."""
    if isinstance(error, TRANSIENT_ERRORS):
        checkout_attempt_discard(claim)
    else:
        _still_ours(claim).update(state=CheckoutAttempt.State.FAILED, error=error.to_payload(),
                                  updated_at=timezone.now())


def checkout_attempt_discard(claim: CheckoutClaim) -> None:
    _still_ours(claim).delete()


def checkout_attempts_purge_expired(*, now: datetime | None = None) -> int:
    """Keys are kept for ECOMMERCE_IDEMPOTENCY_TTL_SECONDS; after that the same key starts a new checkout."""
    deleted, _ = CheckoutAttempt.objects.filter(created_at__lt=_expired_before(now or timezone.now())).delete()
    return deleted
