"""The processor's webhook delivery, as a real processor's servers do it.

An event is written with the change it announces; right after that commits, a worker posts it to the shop
(``ECOMMERCE_SANDBOX_WEBHOOK_URL``), signed afresh for every attempt (``signatures``). Anything but a 2xx answer
(a refusal, a timeout, the shop being down) leaves the event due again later: 5 s, 10 s, 20 s ... at most an hour
apart, for three days, after which it is abandoned. ``webhooks_deliver_due`` runs those retries from beat; it also
picks up an event whose first attempt never happened (the worker died, or no broker took the task), so delivery
depends only on the event's row, never on a message. The shop acknowledges an event at most once in effect, so a
delivery repeated by a race between a retry and a slow first attempt is harmless.

Without a broker (``make run``, the end-to-end servers) there is no worker to play the processor's servers: the first
attempt runs on a short-lived background thread of the process that took the card, once the change committed. It
posts to the shop's own webhook endpoint like any attempt, and, as with a real processor, the shopper's request never
waits for it (in a split deployment that request is itself a call the gateway times out). Later attempts are the
sweep's, wherever beat (or a scheduler standing in for it) runs.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from apps.orders.sandbox_processor.models import WebhookEvent, new_event_id
from apps.orders.sandbox_processor.signatures import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

# The first attempt, made right after commit, owns the event this long before the sweep may try it.
FIRST_ATTEMPT_SECONDS = 30
RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 3600
GIVE_UP_AFTER = timedelta(days=3)
# A sweep that claimed an event holds it this long (more than one request's timeout).
CLAIM_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 10
DUE_BATCH_SIZE = 100


def event_announce(event_type: str, data_object: dict[str, Any]) -> WebhookEvent:
    """Inside the transaction of the change it announces: the event, delivered once that change commits."""
    now = timezone.now()
    event_id = new_event_id()
    event = WebhookEvent.objects.create(
        id=event_id, type=event_type, created_at=now, next_attempt_at=now + timedelta(seconds=FIRST_ATTEMPT_SECONDS),
        payload={"id": event_id, "object": "event", "type": event_type, "created": int(now.timestamp()),
                 "data": {"object": data_object}},
    )
    # robust: however the first attempt fails, the change is committed and the sweep delivers the event later.
    transaction.on_commit(partial(_first_attempt, event_id), robust=True)
    return event


def _first_attempt(event_id: str) -> None:
    from apps.orders.sandbox_processor.tasks import deliver_webhook

    if settings.CELERY_TASK_ALWAYS_EAGER and settings.ECOMMERCE_SANDBOX_DELIVER_IN_BACKGROUND:
        threading.Thread(target=_attempt_in_background, args=(event_id,), name=f"sandbox-webhook-{event_id}",
                         daemon=True).start()
    else:
        deliver_webhook.delay(event_id)


def _attempt_in_background(event_id: str) -> None:
    try:
        webhook_deliver(event_id)
    except Exception:
        logger.exception("sandbox webhook %s: first attempt failed; the sweep retries it", event_id)
    finally:
        connections.close_all()  # this thread's own connections


def http_client() -> httpx.Client:
    return httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS)


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


def webhook_deliver(event_id: str) -> bool:
    """One attempt to deliver the event; returns whether the shop acknowledged it."""
    event = WebhookEvent.objects.filter(pk=event_id, delivered_at=None, abandoned_at=None).first()
    if event is None:
        return False
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SandboxProcessor/1.0",
        SIGNATURE_HEADER: signature_header(body, secrets=settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS),
    }
    status: int | None = None
    error = ""
    try:
        with http_client() as client:
            response = client.post(settings.ECOMMERCE_SANDBOX_WEBHOOK_URL, content=body, headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = response.text[:500]
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    return _attempt_record(event, status=status, error=error)


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failed attempt: 5 s, then doubling, at most an hour."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS))


def _attempt_record(event: WebhookEvent, *, status: int | None, error: str) -> bool:
    now = timezone.now()
    delivered = status is not None and 200 <= status < 300
    changes: dict[str, Any] = {"attempts": F("attempts") + 1, "last_status": status, "last_error": error}
    if delivered:
        changes["delivered_at"] = now
    elif now - event.created_at > GIVE_UP_AFTER:
        changes["abandoned_at"] = now
        logger.error("sandbox webhook %s (%s) abandoned after %s attempts", event.id, event.type, event.attempts + 1)
    else:
        changes["next_attempt_at"] = now + retry_delay(event.attempts + 1)
        logger.warning("sandbox webhook %s (%s) not acknowledged (%s): retried later", event.id, event.type,
                       status or error)
    WebhookEvent.objects.filter(pk=event.pk, delivered_at=None).update(**changes)
    return delivered


def webhooks_deliver_due(*, now: datetime | None = None) -> int:
    """Attempt every event whose time has come; returns how many the shop acknowledged."""
    now = now or timezone.now()
    due = list(
        WebhookEvent.objects.filter(delivered_at=None, abandoned_at=None, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("id", "next_attempt_at")[:DUE_BATCH_SIZE]
    )
    delivered = 0
    for event_id, due_at in due:
        # Claimed by moving its time on: another sweep that read the same row finds it changed and skips it.
        claimed = WebhookEvent.objects.filter(pk=event_id, next_attempt_at=due_at, delivered_at=None).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        if claimed and webhook_deliver(event_id):
            delivered += 1
    return delivered
