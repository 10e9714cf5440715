"""Handling one event by one consumer: exactly once in effect, however often it is delivered.

The rule it guards: a consumer's effect and the (consumer, event id) row that records it commit in one transaction.
A redelivered event finds the row and does nothing; two deliveries racing each other meet at the unique index, and
the second waits for the first and then does nothing. Only after that transaction committed may the message be
acknowledged, so a crash at any point before leaves the message to be delivered again.

Both ways events reach consumers use this module: the Celery workers' queue consumers (``worker``) and, without a
broker, the in-process dispatch (``dispatch``), so the handler code and its idempotency are the same in both.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ecommerce.events.models import DeadLetter, ProcessedEvent
from ecommerce.events.subscriptions import Subscription

logger = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 4000


class MalformedEvent(Exception):
    """No retry can ever handle this message (it is not an event, or its data breaks the event's contract): it goes
    to the dead letters at once."""


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    type: str
    occurred_at: datetime
    version: int
    data: dict[str, Any]

    @classmethod
    def from_envelope(cls, envelope: object) -> Event:
        if not isinstance(envelope, dict):
            raise MalformedEvent("the message is not an event envelope (a JSON object)")
        try:
            event_id = uuid.UUID(str(envelope["id"]))
            event_type = envelope["type"]
            occurred_at = parse_datetime(str(envelope["occurred_at"]))
            version = int(envelope.get("version", 1))
            data = envelope["data"]
        except (KeyError, ValueError, TypeError) as error:
            raise MalformedEvent(f"the event envelope is incomplete or invalid: {error!r}") from error
        if not isinstance(event_type, str) or occurred_at is None or not isinstance(data, dict):
            raise MalformedEvent("the event envelope has a wrong type, occurred_at or data")
        return cls(id=event_id, type=event_type, occurred_at=occurred_at, version=version, data=data)


def _limit_lock_waits() -> None:
    """A consumer waiting on a row lock forever would stall its whole queue; give up after a while and retry."""
    if connection.vendor == "postgresql":
        milliseconds = int(settings.ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {milliseconds}")


def event_handle(*, subscription: Subscription, envelope: object) -> bool:
    """Apply ``subscription``'s handler to the event unless it already was; True when it ran now.

    Raises :class:`MalformedEvent` for a message no retry can fix, and whatever the handler raised otherwise (the
    transaction is then rolled back, so nothing of the attempt remains)."""
    event = Event.from_envelope(envelope)
    if not subscription.takes(event.type):
        logger.warning("consumer %s ignores event %s of type %s, which it does not subscribe to",
                       subscription.consumer, event.id, event.type)
        return False
    handler = subscription.handler()
    with transaction.atomic():
        _limit_lock_waits()
        try:
            with transaction.atomic():
                ProcessedEvent.objects.create(consumer=subscription.consumer, event_id=event.id)
        except IntegrityError:
            logger.info("consumer %s already handled event %s; nothing to do", subscription.consumer, event.id)
            return False
        handler(event)
    return True


def error_summary(error: BaseException) -> str:
    """One line: the exception's type and the first line of its message."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"[:500]


def error_text(error: BaseException) -> str:
    """What operators read: the summary line first, then where it was raised (the last frames), at most a page."""
    frames = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=-3)).strip()
    return f"{error_summary(error)}\n\n{frames[-ERROR_TEXT_LIMIT:]}"


def dead_letter_record(*, subscription: Subscription, envelope: object, raw_body: str = "", error: str,
                       attempts: int) -> DeadLetter:
    """Record (or record again, after a failed replay) that ``subscription`` gave up on this message."""
    event_id, event_type = _identity(envelope)
    fields = {
        "event_type": event_type, "envelope": envelope if isinstance(envelope, dict) else None,
        "raw_body": raw_body, "error": error, "attempts": attempts, "dead_at": timezone.now(), "replayed_at": None,
    }
    if event_id is None:
        return DeadLetter.objects.create(consumer=subscription.consumer, event_id=None, **fields)
    with transaction.atomic():
        letter, _ = DeadLetter.objects.select_for_update().update_or_create(
            consumer=subscription.consumer, event_id=event_id, defaults=fields,
        )
    logger.error("consumer %s gave up on event %s (%s) after %s attempt(s): %s",
                 subscription.consumer, event_id, event_type, attempts, error.partition("\n")[0])
    return letter


def _identity(envelope: object) -> tuple[uuid.UUID | None, str]:
    if not isinstance(envelope, dict):
        return None, ""
    try:
        event_id = uuid.UUID(str(envelope.get("id")))
    except ValueError:
        event_id = None
    event_type = envelope.get("type")
    return event_id, event_type if isinstance(event_type, str) else ""
