"""Outbox: events exist exactly when their change committed, in the public envelope; old history is forgotten."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from ecommerce.events.models import OutboxEvent, ProcessedEvent
from ecommerce.events.outbox import events_purge_old, outbox_backlog, record_event, record_events


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event("order.created", {"order_id": "x"})


@pytest.mark.django_db(transaction=True)
def test_several_events_outside_a_transaction_are_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_events([("stock.low", {"product_id": 1})])
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_several_events_of_one_change_are_written_in_one_statement(django_assert_num_queries) -> None:
    with transaction.atomic(), django_assert_num_queries(1):
        record_events([("stock.low", {"product_id": number, "price": Decimal("1.50")}) for number in range(5)])

    assert sorted(event.data["product_id"] for event in OutboxEvent.objects.filter(type="stock.low")) == list(range(5))
    assert OutboxEvent.objects.filter(type="stock.low").first().data["price"] == "1.50"


@pytest.mark.django_db
def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown event type"), transaction.atomic():
        record_event("order.exploded", {})


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            record_event("order.created", {"order_id": "rolled-back"})
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_that_fails()

    assert not OutboxEvent.objects.filter(data__order_id="rolled-back").exists()


@pytest.mark.django_db
def test_events_carry_the_public_shape() -> None:
    with transaction.atomic():
        event = record_event("stock.low", {"product_id": 3, "price": Decimal("1.50")})

    envelope = event.envelope()
    assert set(envelope) == {"id", "type", "occurred_at", "version", "data"}
    assert envelope["data"] == {"product_id": 3, "price": "1.50"}
    uuid.UUID(envelope["id"])


@pytest.mark.django_db
def test_the_backlog_counts_pending_events_and_the_age_of_the_oldest() -> None:
    assert outbox_backlog().pending == 0
    assert outbox_backlog().oldest_age_seconds is None
    with transaction.atomic():
        old = record_event("order.created", {"order_id": "old"})
        record_event("order.created", {"order_id": "new"})
        published = record_event("order.created", {"order_id": "sent"})
    OutboxEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(minutes=10))
    OutboxEvent.objects.filter(pk=published.pk).update(published_at=timezone.now())

    backlog = outbox_backlog()

    assert backlog.pending == 2
    assert 595 <= backlog.oldest_age_seconds <= 660


@pytest.mark.django_db
def test_published_events_and_processed_rows_are_forgotten_after_the_retention(settings) -> None:
    settings.ECOMMERCE_EVENTS_KEEP_DAYS = 30
    now = timezone.now()
    with transaction.atomic():
        old = record_event("order.created", {"order_id": "old"})
        recent = record_event("order.created", {"order_id": "recent"})
        unpublished = record_event("order.created", {"order_id": "never-sent"})
    OutboxEvent.objects.filter(pk=old.pk).update(published_at=now - timedelta(days=31))
    OutboxEvent.objects.filter(pk=recent.pk).update(published_at=now - timedelta(days=1))
    OutboxEvent.objects.filter(pk=unpublished.pk).update(occurred_at=now - timedelta(days=90))
    ProcessedEvent.objects.create(consumer="c", event_id=uuid.uuid4(), processed_at=now - timedelta(days=31))
    kept = ProcessedEvent.objects.create(consumer="c", event_id=uuid.uuid4(), processed_at=now - timedelta(days=2))

    assert events_purge_old(now=now) == (1, 1)

    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent.pk, unpublished.pk}
    assert list(ProcessedEvent.objects.values_list("pk", flat=True)) == [kept.pk]
