"""The sandbox card processor on its own, as the shop's client sees it: its API (idempotent creations and refunds,
test cards, one confirmation per intent), its signature scheme, and its webhook delivery (after commit, retried
with backoff until a 2xx, abandoned after three days)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.orders.sandbox_processor import api as processor
from apps.orders.sandbox_processor import delivery
from apps.orders.sandbox_processor.models import Intent, WebhookEvent
from apps.orders.sandbox_processor.signatures import (
    SignatureVerificationError,
    signature_header,
    verify_signature,
)

pytestmark = pytest.mark.django_db

# Real commits, threads with their own connections. serialized_rollback: the flush after the test must not re-create
# content types behind the back of later serialized-rollback tests; the migrated groups come back for the next.
def real_commits(test):
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True, serialized_rollback=True)(test))

SECRET = "sandbox-test-secret-0123456789abcdef"


def an_intent(key: str = "key-1", amount: int = 4202) -> Intent:
    return processor.intent_create(amount=amount, currency="USD", metadata={"shop_payment_id": "p-1"},
                                   idempotency_key=key)


# --- API ----------------------------------------------------------------------------------------------------------

def test_an_intent_is_made_once_per_key_and_a_key_cannot_change_its_amount():
    first = an_intent()
    again = an_intent()

    assert again.pk == first.pk
    assert (first.amount, first.currency, first.status) == (4202, "usd", "requires_confirmation")
    assert first.client_secret.startswith("sbx_secret_")
    with pytest.raises(processor.IdempotencyKeyReused):
        an_intent(amount=1)
    assert Intent.objects.count() == 1


def test_the_good_card_succeeds_the_declined_card_is_declined_and_each_writes_its_event(
        django_capture_on_commit_callbacks):
    good, bad = an_intent("good"), an_intent("bad")

    with django_capture_on_commit_callbacks() as callbacks:
        processor.intent_confirm(intent_id=good.id, card_number="4242 4242 4242 4242")
        processor.intent_confirm(intent_id=bad.id, card_number="4000-0000-0000-0002")

    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, good.card_last4) == ("succeeded", "4242")
    assert (bad.status, bad.decline_code) == ("declined", "card_declined")
    events = {event.type: event.payload["data"]["object"] for event in WebhookEvent.objects.all()}
    assert events["payment_intent.succeeded"]["id"] == good.id
    assert events["payment_intent.payment_failed"]["last_payment_error"] == {
        "code": "card_declined", "message": "Your card was declined."}
    assert len(callbacks) == 2  # one first delivery attempt per event, once committed


def test_an_unknown_card_or_a_second_confirmation_is_refused_and_changes_nothing():
    intent = an_intent()

    with pytest.raises(processor.UnknownCard):
        processor.intent_confirm(intent_id=intent.id, card_number="4111111111111111")
    processor.intent_confirm(intent_id=intent.id, card_number="4242424242424242")
    with pytest.raises(processor.UnexpectedIntentState):
        processor.intent_confirm(intent_id=intent.id, card_number="4000000000000002")

    assert Intent.objects.get(pk=intent.id).status == "succeeded"
    assert WebhookEvent.objects.count() == 1


def test_a_refund_is_made_once_per_key_and_never_beyond_what_was_paid():
    intent = an_intent()
    with pytest.raises(processor.UnexpectedIntentState):
        processor.refund_create(intent_id=intent.id, amount=4202, idempotency_key="too-early")
    processor.intent_confirm(intent_id=intent.id, card_number="4242424242424242")

    first = processor.refund_create(intent_id=intent.id, amount=4202, idempotency_key="refund-1")
    again = processor.refund_create(intent_id=intent.id, amount=4202, idempotency_key="refund-1")
    with pytest.raises(processor.UnexpectedIntentState):
        processor.refund_create(intent_id=intent.id, amount=1, idempotency_key="refund-2")

    assert again.pk == first.pk
    assert Intent.objects.get(pk=intent.id).amount_refunded == 4202
    assert WebhookEvent.objects.filter(type="charge.refunded").count() == 1


# --- signatures ---------------------------------------------------------------------------------------------------

def test_the_header_carries_one_hmac_sha256_of_timestamp_dot_body_per_secret():
    body = b'{"id":"evt_1"}'

    header = signature_header(body, secrets=[SECRET, "second-secret"], timestamp=1700000000)

    expected = [hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
                for secret in (SECRET, "second-secret")]
    assert header == f"t=1700000000,v1={expected[0]},v1={expected[1]}"


@pytest.mark.parametrize(("header", "secrets", "now_offset"), [
    (None, [SECRET], 0),
    ("", [SECRET], 0),
    ("t=1700000000", [SECRET], 0),
    ("v1=abc", [SECRET], 0),
    ("t=soon,v1=abc", [SECRET], 0),
    ("SIGNED", [SECRET], 0),
    ("SIGNED", ["not-the-secret"], 0),
    ("SIGNED", [], 0),
    ("SIGNED", [SECRET], 301),
    ("SIGNED", [SECRET], -301),
], ids=["none", "empty", "no signature", "no timestamp", "bad timestamp", "right", "wrong secret", "no secret",
        "stale", "from the future"])
def test_verification_refuses_anything_but_a_fresh_signature_by_an_accepted_secret(header, secrets, now_offset):
    body = b'{"id":"evt_1"}'
    signed_header = signature_header(body, secrets=[SECRET], timestamp=1700000000)
    header = signed_header if header == "SIGNED" else header
    now = 1700000000 + now_offset

    if header == signed_header and secrets == [SECRET] and now_offset == 0:
        verify_signature(body, header, secrets=secrets, now=now)
        verify_signature(body, header, secrets=secrets, now=now + 300)
    else:
        with pytest.raises(SignatureVerificationError):
            verify_signature(body, header, secrets=secrets, now=now)


# --- delivery -----------------------------------------------------------------------------------------------------

class ScriptedShop(httpx.BaseTransport):
    """The shop's webhook endpoint answering a fixed sequence of statuses (None: the connection fails)."""

    def __init__(self, *answers: int | None) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if answer is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(answer, text="" if answer < 300 else "not now", request=request)


@pytest.fixture
def shop(monkeypatch):
    def answering(*answers: int | None) -> ScriptedShop:
        scripted = ScriptedShop(*answers)
        monkeypatch.setattr(delivery, "http_client", lambda: httpx.Client(transport=scripted))
        return scripted

    return answering


def a_confirmed_event() -> WebhookEvent:
    processor.intent_confirm(intent_id=an_intent().id, card_number="4242424242424242")
    return WebhookEvent.objects.get()


def test_each_attempt_posts_the_event_signed_afresh_to_the_shops_url(shop, settings):
    scripted = shop(500, 200)
    event = a_confirmed_event()

    delivery.webhook_deliver(event.id)
    time.sleep(1.1)
    delivery.webhook_deliver(event.id)

    first, second = scripted.requests
    assert str(first.url) == settings.ECOMMERCE_SANDBOX_WEBHOOK_URL
    assert first.content == second.content == delivery.event_body(event)
    assert first.headers["Sandbox-Signature"] != second.headers["Sandbox-Signature"]
    for request in scripted.requests:
        verify_signature(request.content, request.headers["Sandbox-Signature"],
                         secrets=settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS)


def test_anything_but_a_2xx_is_tried_again_later_and_later_until_acknowledged(shop):
    scripted = shop(None, 409, 503, 204)
    event = a_confirmed_event()
    start = timezone.now()

    results = []
    delays = []
    for _ in range(4):
        results.append(delivery.webhook_deliver(event.id))
        event.refresh_from_db()
        delays.append(round((event.next_attempt_at - timezone.now()).total_seconds()))

    assert results == [False, False, False, True]
    assert delays[:3] == [5, 10, 20]
    assert (event.attempts, event.last_status, event.delivered_at >= start) == (4, 204, True)
    assert len(scripted.requests) == 4
    assert delivery.webhook_deliver(event.id) is False  # delivered: nothing more is sent
    assert len(scripted.requests) == 4


def test_the_sweep_sends_what_is_due_claims_it_and_leaves_the_rest(shop):
    scripted = shop(200)
    event = a_confirmed_event()

    too_soon = delivery.webhooks_deliver_due()
    due = delivery.webhooks_deliver_due(now=timezone.now() + timedelta(seconds=delivery.FIRST_ATTEMPT_SECONDS))

    assert (too_soon, due) == (0, 1)
    assert len(scripted.requests) == 1
    assert WebhookEvent.objects.get(pk=event.pk).delivered_at is not None


def test_an_event_refused_for_three_days_is_abandoned(shop):
    shop(503)
    event = a_confirmed_event()
    WebhookEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=3, minutes=1))

    assert delivery.webhook_deliver(event.id) is False

    event.refresh_from_db()
    assert event.abandoned_at is not None
    assert delivery.webhooks_deliver_due(now=timezone.now() + timedelta(days=1)) == 0


def test_the_first_attempt_runs_once_the_change_committed_and_a_failure_there_breaks_nothing(
        shop, django_capture_on_commit_callbacks):
    shop(None)

    with django_capture_on_commit_callbacks(execute=True):
        event = a_confirmed_event()

    event.refresh_from_db()
    assert (event.attempts, event.delivered_at) == (1, None)
    assert "ConnectError" in event.last_error
    assert Intent.objects.get().status == "succeeded"


@real_commits
def test_without_a_broker_the_first_attempt_runs_in_the_background_once_committed(shop, settings):
    # given no broker: the processor's servers are played by a thread of this process
    settings.ECOMMERCE_SANDBOX_DELIVER_IN_BACKGROUND = True
    scripted = shop(200)

    # when a card is taken (the change commits)
    processor.intent_confirm(intent_id=an_intent().id, card_number="4242424242424242")

    # then the webhook is posted by a background thread, not by the confirming call
    background = [t for t in threading.enumerate() if t.name.startswith("sandbox-webhook-")]
    for thread in background:
        thread.join(timeout=30)
    assert len(scripted.requests) == 1
    assert WebhookEvent.objects.get().delivered_at is not None
