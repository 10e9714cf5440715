"""Dead letters for operators: list what each consumer gave up on, and send it back to that consumer.

The table (``DeadLetter``) is what operators read: consumer, event type and id, attempts, the error and its age.
The consumer's dead-letter queue holds the same messages, with the error in their headers, for broker tools.

Replaying is idempotent: a letter is replayed once (a second replay of the same letter is skipped until it dies
again), the message goes to the one consumer that gave up on it (through the default exchange, never back through
``shop.events`` where every other subscriber would get it again), starting again at attempt 1, and the consumer's
(consumer, event id) row makes the effect happen once whatever happens. The replayed messages are taken out of the
dead-letter queue. Without a broker the letter is handled in this process, by the same handler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ecommerce.events import subscriptions, topology
from ecommerce.events.broker import confirmed_publisher
from ecommerce.events.handling import dead_letter_record, error_text, event_handle
from ecommerce.events.models import DeadLetter

logger = logging.getLogger(__name__)

REPLAY_HEADER = "x-replay-of"


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    consumer: str
    event_type: str
    event_id: str
    attempts: int
    age: timedelta
    error: str
    replayed: bool


@dataclass
class ReplayReport:
    replayed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed_again: list[int] = field(default_factory=list)


def dead_letters_list(*, consumer: str | None = None, include_replayed: bool = False) -> list[DeadLetterView]:
    letters = DeadLetter.objects.all()
    if consumer:
        subscriptions.by_consumer(consumer)
        letters = letters.filter(consumer=consumer)
    if not include_replayed:
        letters = letters.filter(replayed_at=None)
    now = timezone.now()
    return [
        DeadLetterView(id=letter.pk, consumer=letter.consumer, event_type=letter.event_type or "?",
                       event_id=str(letter.event_id or "-"), attempts=letter.attempts, age=now - letter.dead_at,
                       error=letter.error, replayed=letter.replayed_at is not None)
        for letter in letters.order_by("dead_at", "id")
    ]


def dead_letter_queue_depths() -> dict[str, int]:
    """Messages waiting in each local consumer's dead-letter queue (empty without a broker)."""
    if not settings.CELERY_BROKER_URL:
        return {}
    depths = {}
    with confirmed_publisher() as publisher:
        topology.declare(publisher.channel)
        for subscription in subscriptions.local():
            name = topology.dead_letter_queue(subscription).name
            _, count, _ = publisher.channel.queue_declare(queue=name, passive=True)
            depths[subscription.consumer] = count
    return depths


def dead_letters_replay(*, letter_ids: list[int] | None = None, consumer: str | None = None) -> ReplayReport:
    """Replay the given letters, or every dead letter of ``consumer``."""
    if not letter_ids and not consumer:
        raise ValueError("name the dead letters to replay, or a consumer to replay all of its dead letters")
    letters: QuerySet[DeadLetter] = DeadLetter.objects.order_by("dead_at", "id")
    if consumer:
        subscriptions.by_consumer(consumer)
        letters = letters.filter(consumer=consumer)
    if letter_ids:
        letters = letters.filter(pk__in=letter_ids)
    report = ReplayReport()
    wanted = set(letter_ids or [])
    for missing in sorted(wanted - set(letters.values_list("pk", flat=True))):
        report.skipped[missing] = "no such dead letter"
    candidates = list(letters.values_list("pk", flat=True))
    if settings.CELERY_BROKER_URL:
        _replay_through_broker(candidates, report)
    else:
        _replay_in_process(candidates, report)
    return report


def _claim(letter_id: int, report: ReplayReport) -> DeadLetter | None:
    """Mark one letter replayed, unless it already is or cannot be; the caller then sends it."""
    letter = DeadLetter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        report.skipped[letter_id] = "no such dead letter"
        return None
    if letter.replayed_at is not None:
        report.skipped[letter_id] = "already replayed"
        return None
    if letter.envelope is None:
        report.skipped[letter_id] = "not an event (its raw body is kept for inspection only)"
        return None
    if letter.consumer not in {subscription.consumer for subscription in subscriptions.SUBSCRIPTIONS}:
        report.skipped[letter_id] = f"no consumer named {letter.consumer!r} any more"
        return None
    letter.replayed_at = timezone.now()
    letter.replays += 1
    letter.save(update_fields=["replayed_at", "replays"])
    return letter


def _replay_through_broker(letter_ids: list[int], report: ReplayReport) -> None:
    replayed_by_consumer: dict[str, set[str]] = {}
    with confirmed_publisher() as publisher:
        topology.declare(publisher.channel)
        for letter_id in letter_ids:
            # The mark and the publish commit together: a publish that fails leaves the letter dead.
            with transaction.atomic():
                letter = _claim(letter_id, report)
                if letter is None:
                    continue
                subscription = subscriptions.by_consumer(letter.consumer)
                publisher.publish(
                    letter.envelope, exchange="", routing_key=topology.queue_name(subscription),
                    message_id=str(letter.event_id), serializer="json", type=letter.event_type,
                    headers={topology.ATTEMPT_HEADER: 1, REPLAY_HEADER: letter.pk},
                )
            report.replayed.append(letter_id)
            replayed_by_consumer.setdefault(letter.consumer, set()).add(str(letter.event_id))
        for consumer, event_ids in replayed_by_consumer.items():
            _remove_from_dead_letter_queue(publisher.broker, subscriptions.by_consumer(consumer), event_ids)


def _remove_from_dead_letter_queue(broker: object, subscription: subscriptions.Subscription,
                                   event_ids: set[str]) -> None:
    """Acknowledge the replayed messages in the dead-letter queue; every other message goes back when the channel
    closes unacknowledged, in its order."""
    channel = broker.channel()  # type: ignore[attr-defined]
    try:
        queue = topology.dead_letter_queue(subscription)(channel)
        _, waiting, _ = channel.queue_declare(queue=queue.name, passive=True)
        for _ in range(waiting):
            message = queue.get(no_ack=False)
            if message is None:
                break
            if str(message.properties.get("message_id")) in event_ids:
                message.ack()
    finally:
        channel.close()


def _replay_in_process(letter_ids: list[int], report: ReplayReport) -> None:
    for letter_id in letter_ids:
        with transaction.atomic():
            letter = _claim(letter_id, report)
        if letter is None:
            continue
        subscription = subscriptions.by_consumer(letter.consumer)
        try:
            event_handle(subscription=subscription, envelope=letter.envelope)
        except Exception as error:  # noqa: BLE001 - it is dead again, with the new error
            dead_letter_record(subscription=subscription, envelope=letter.envelope, error=error_text(error),
                               attempts=letter.attempts + 1)
            report.failed_again.append(letter_id)
            continue
        report.replayed.append(letter_id)
