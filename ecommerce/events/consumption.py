"""What a worker does with one message from a consumer's queue: handle it, or retry it later, or give up on it.

The rule it guards: a message is acknowledged only after its fate is durable. That is after the consumer's
transaction committed (``handling``), or after a copy with the next attempt number was confirmed by the broker in a
retry queue, or after the dead letter was recorded in the table *and* confirmed in the dead-letter queue. If any of
that fails the message is handed back to the broker (or simply redelivered when the worker died), never dropped.

Attempts travel in the ``x-attempt`` header: a message is tried once, then once after each of
``ECOMMERCE_EVENT_RETRY_DELAYS``; a message that is not an event at all, or whose data a handler declares malformed,
is not retried. A worker that is killed mid-message did not fail it: the redelivered message keeps its attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import close_old_connections
from django.utils import timezone
from kombu.message import Message

from ecommerce.events import topology
from ecommerce.events.broker import confirmed_publisher
from ecommerce.events.handling import (
    MalformedEvent,
    dead_letter_record,
    error_summary,
    error_text,
    event_handle,
)
from ecommerce.events.subscriptions import Subscription

logger = logging.getLogger(__name__)

# After the broker or the database failed us while settling a message, wait a little before it comes back, so an
# outage does not turn into a hot loop of redeliveries.
REQUEUE_PAUSE_SECONDS = 1.0


def attempt_of(message: Message) -> int:
    try:
        return max(1, int((message.headers or {}).get(topology.ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1


def message_handle(subscription: Subscription, message: Message) -> None:
    attempt = attempt_of(message)
    envelope: Any = None
    failure: BaseException | None = None
    retryable = True
    close_old_connections()
    try:
        envelope = _decode(message)
        event_handle(subscription=subscription, envelope=envelope)
    except MalformedEvent as error:
        failure, retryable = error, False
    except Exception as error:  # noqa: BLE001 - whatever the handler raised is retried, then dead-lettered
        failure = error
    finally:
        close_old_connections()
    if failure is None:
        message.ack()
        return
    logger.warning("consumer %s failed on message %s (attempt %s of %s): %s", subscription.consumer,
                   message.properties.get("message_id"), attempt, topology.max_attempts(), error_summary(failure))
    if retryable and attempt < topology.max_attempts():
        _settle(message, partial(retry_later, subscription, message, failure, attempt))
    else:
        _settle(message, partial(give_up, subscription, message, envelope, failure, attempt))


def _decode(message: Message) -> Any:
    try:
        return message.decode()
    except Exception as error:
        raise MalformedEvent(f"the message body cannot be read as JSON: {error_summary(error)}") from error


def _settle(message: Message, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception:
        logger.exception("could not settle message %s; handing it back to the broker",
                         message.properties.get("message_id"))
        time.sleep(REQUEUE_PAUSE_SECONDS)
        try:
            message.requeue()
        except Exception:  # noqa: BLE001 - the connection is gone; the broker redelivers unacknowledged messages
            logger.warning("could not hand message %s back; the broker redelivers it",
                           message.properties.get("message_id"))
        return
    message.ack()


def _forward(message: Message, *, routing_key: str, headers: dict[str, Any]) -> None:
    """Publish the message's own bytes to one queue (through the default exchange), confirmed."""
    with confirmed_publisher() as publisher:
        publisher.publish(
            message.body, exchange="", routing_key=routing_key,
            message_id=str(message.properties.get("message_id", "")), headers=headers,
            content_type=message.content_type, content_encoding=message.content_encoding,
            type=message.properties.get("type", ""),
        )


def retry_later(subscription: Subscription, message: Message, error: BaseException, attempt: int) -> None:
    delay = topology.retry_delays()[attempt - 1]
    headers = {**(message.headers or {}), topology.ATTEMPT_HEADER: attempt + 1,
               topology.ERROR_HEADER: error_summary(error)}
    _forward(message, routing_key=topology.retry_queue(subscription, delay).name, headers=headers)


def give_up(subscription: Subscription, message: Message, envelope: Any, error: BaseException,
            attempt: int) -> None:
    text = error_text(error)
    raw = "" if isinstance(envelope, dict) else _raw_body(message)
    dead_letter_record(subscription=subscription, envelope=envelope, raw_body=raw, error=text, attempts=attempt)
    headers = {**(message.headers or {}), topology.ATTEMPT_HEADER: attempt, topology.ERROR_HEADER: text,
               topology.CONSUMER_HEADER: subscription.consumer, topology.DEAD_AT_HEADER: timezone.now().isoformat()}
    _forward(message, routing_key=topology.dead_letter_queue(subscription).name, headers=headers)


def _raw_body(message: Message) -> str:
    body = message.body
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
    return text[:10000]
