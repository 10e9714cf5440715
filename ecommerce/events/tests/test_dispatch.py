"""Without a broker (``make run``) committed events reach this process's own consumers: the same handlers, the same
idempotency, the same retries and dead letters as behind a broker."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from ecommerce.contracts.users import UserDTO
from ecommerce.events import subscriptions
from ecommerce.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from ecommerce.events.outbox import record_event
from ecommerce.events.relay import relay_outbox
from tests.support.events import order_data
from tests.support.locks import consumer_held_up
from tests.support.shop import place_order


@pytest.fixture
def no_broker(settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_through_the_api_is_mailed_without_a_broker(
        no_broker: None, client_for: Callable[..., Any], make_user: Callable[..., UserDTO]) -> None:
    customer = make_user(email="ann@example.com", name="Ann")
    order = place_order(client_for, customer)

    assert relay_outbox() == 1

    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert order["number"] in mail.outbox[0].body
    assert f"{order['total']} USD" in mail.outbox[0].body
    assert OutboxEvent.objects.get().published_at is not None
    assert relay_outbox() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_failing_consumer_is_retried_then_dead_lettered_then_replayed(
        no_broker: None, settings: Any, make_user: Callable[..., UserDTO]) -> None:
    settings.ECOMMERCE_EVENT_RETRY_DELAYS = [0, 0]
    settings.ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    customer = make_user(email="ann@example.com")
    with transaction.atomic():
        event = record_event("order.created", order_data(user_id=customer.id))

    with consumer_held_up("users.order_emails", event.id):
        assert relay_outbox() == 0  # attempt 1 fails: retried after the first delay
        event.refresh_from_db()
        assert (event.attempts, event.published_at) == (1, None)
        assert "users.order_emails" in event.last_error
        assert relay_outbox() == 0  # attempt 2
        assert relay_outbox() == 1  # attempt 3 is the last: dead letter, and the row is done with

    letter = DeadLetter.objects.get()
    assert (letter.consumer, letter.event_id, letter.event_type, letter.attempts) == (
        "users.order_emails", event.id, "order.created", 3)
    assert "lock timeout" in letter.error
    assert mail.outbox == []
    assert relay_outbox() == 0

    call_command("dead_letters", "replay", str(letter.pk))

    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    call_command("dead_letters", "replay", str(letter.pk))  # replaying again changes nothing
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_malformed_event_is_dead_lettered_at_once(no_broker: None, make_user: Callable[..., UserDTO]) -> None:
    customer = make_user()
    data = order_data(user_id=customer.id)
    del data["number"]
    with transaction.atomic():
        event = record_event("order.paid", data)

    assert relay_outbox() == 1

    letter = DeadLetter.objects.get()
    assert (letter.event_id, letter.attempts) == (event.id, 1)
    assert "MalformedEvent" in letter.error
    assert "number" in letter.error
    assert not ProcessedEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_in_a_split_role_without_a_broker_events_for_other_roles_wait(no_broker: None, settings: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "orders"
    payment_mails = subscriptions.by_consumer("users.payment_emails")
    with transaction.atomic():
        for_users = record_event("order.created", {"order_id": "x"})
        refunded = record_event("payment.refunded", {"payment_id": "p"})

    assert relay_outbox() == 0
    # A type nobody in the shop took would wait just the same, as it would behind a broker.
    monkeypatch.setattr(subscriptions, "SUBSCRIPTIONS",
                        tuple(s for s in subscriptions.SUBSCRIPTIONS if s is not payment_mails))
    settings.ECOMMERCE_DEPLOYMENT_MODE = "monolith"
    assert relay_outbox() == 1

    for_users.refresh_from_db()
    refunded.refresh_from_db()
    assert for_users.published_at is not None
    assert refunded.published_at is None


@pytest.mark.django_db
def test_a_letter_of_a_consumer_that_no_longer_exists_is_skipped_not_replayed(no_broker: None) -> None:
    letter = DeadLetter.objects.create(consumer="users.retired", event_type="order.paid", attempts=4,
                                       envelope={"id": "0b6f5a3e-4c1d-4d4e-9a57-2f1f7f0f1a11"}, error="gone")
    output = io.StringIO()

    call_command("dead_letters", "replay", str(letter.pk), stdout=output)

    assert f"skipped {letter.pk}: no consumer named 'users.retired' any more" in output.getvalue()
    letter.refresh_from_db()
    assert letter.replayed_at is None
