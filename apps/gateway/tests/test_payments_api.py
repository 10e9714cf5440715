"""The public payments API, driven as a shopper and the sandbox processor's worker drive it: checkout, a payment for
the order's total, the shopper's card on the sandbox's page, the signed webhook the worker delivers, the order paid;
a declined card; replays of the Idempotency-Key; who may read or confirm which payment; every refusal, and that it
changes nothing; the webhook endpoint's own answers over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal
from itertools import count

import pytest
from django.apps import apps as django_apps
from django.conf import settings

from apps.gateway.composition import cart as cart_composition
from apps.gateway.tests.problems import assert_problem
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.events.models import OutboxEvent
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
PAYMENT_FIELDS = {"id", "order_id", "provider", "status", "amount", "currency", "client_secret", "failure_message",
                  "created_at", "updated_at"}
WEBHOOK_URL = "/api/v1/payments/webhooks/sandbox"
SIGNATURE_HEADER = "Sandbox-Signature"
_numbers = count(1)


def make_product(*, price: str = "10.00", stock: int = 5):
    number = next(_numbers)
    return products_service.product_create(product=ProductInput(
        sku=f"API-PAY-{number}", name=f"Api payment product {number}", price=Decimal(price), stock=stock))


def available(product) -> int:
    return products_service.product_get(product_id=product.id).stock


def order_for(client, product=None, quantity: int = 1) -> dict:
    """A real order of ``client``, checked out through the API."""
    cart_composition.cart_item_add(user_id=client.user.id, product_id=(product or make_product()).id,
                                   quantity=quantity)
    address = users_service.address_create(user_id=client.user.id, address=AddressInput(
        full_name="Grace Hopper", street="1 Compiler Way", city="Arlington", state="VA", zip_code="22201",
        country="US"))
    response = client.post("/api/v1/orders", {"address_id": address.id}, format="json",
                           headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.content
    return response.json()


def pay(client, order_id, *, key: str | None = None):
    return client.post(f"/api/v1/orders/{order_id}/payments", headers={"Idempotency-Key": key or uuid.uuid4().hex})


def confirm(client, payment_id, card_number: str = GOOD_CARD):
    return client.post(f"/api/v1/payments/{payment_id}/confirm", {"card_number": card_number}, format="json")


def event_types() -> list[str]:
    return list(OutboxEvent.objects.order_by("occurred_at", "id").values_list("type", flat=True))


# --- the journey --------------------------------------------------------------------------------------------------

def test_a_shopper_pays_with_a_good_card_and_the_webhook_makes_the_order_paid(customer_client, order_staff_client,
                                                                              sandbox_webhooks):
    # given a pending order of two units
    lamp = make_product(price="19.99", stock=5)
    order = order_for(customer_client, lamp, quantity=2)

    # when the shopper creates a payment and pays with the good card on the sandbox's page
    created = pay(customer_client, order["id"])
    confirmed = confirm(customer_client, created.json()["id"], "4242 4242 4242 4242")

    # then the payment is for the order's total, and nothing changed in the shop before the webhook
    assert created.status_code == 201, created.content
    payment = created.json()
    assert set(payment) == PAYMENT_FIELDS
    assert (payment["order_id"], payment["provider"], payment["status"], payment["amount"], payment["currency"]) == (
        order["id"], "sandbox", "requires_confirmation", "44.98", "USD")
    assert payment["client_secret"].startswith("sbx_secret_")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "requires_confirmation"
    assert customer_client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "pending"

    # when the processor's worker delivers its signed webhook
    assert sandbox_webhooks.deliver() == [True]

    # then the payment succeeded, the order is paid and its stock is still reserved
    assert customer_client.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "succeeded"
    paid = customer_client.get(f"/api/v1/orders/{order['id']}").json()
    assert (paid["status"], paid["payment_status"]) == ("paid", "succeeded")
    assert available(lamp) == 3
    assert event_types()[-2:] == ["payment.succeeded", "order.paid"]

    # when staff ship it, the reservation is committed (taken for good)
    shipped = order_staff_client.post(f"/api/v1/orders/{order['id']}/status", {"status": "shipped"}, format="json")
    assert shipped.json()["status"] == "shipped"
    assert available(lamp) == 3
    assert products_service.product_get(product_id=lamp.id).stock == 3


def test_a_declined_card_fails_the_payment_and_leaves_the_order_pending(customer_client, sandbox_webhooks):
    lamp = make_product(stock=5)
    order = order_for(customer_client, lamp)
    payment = pay(customer_client, order["id"]).json()

    confirm(customer_client, payment["id"], DECLINED_CARD)
    sandbox_webhooks.deliver()

    failed = customer_client.get(f"/api/v1/payments/{payment['id']}").json()
    assert (failed["status"], failed["failure_message"]) == ("failed", "Your card was declined.")
    pending = customer_client.get(f"/api/v1/orders/{order['id']}").json()
    assert (pending["status"], pending["payment_status"]) == ("pending", "failed")
    assert available(lamp) == 4
    assert event_types()[-1] == "payment.failed"

    # and the shopper may try again with a new payment
    again = pay(customer_client, order["id"]).json()
    confirm(customer_client, again["id"])
    sandbox_webhooks.deliver()
    assert customer_client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "paid"


# --- creation: Idempotency-Key and refusals -----------------------------------------------------------------------

def test_the_same_key_replays_the_first_answer_and_another_order_with_it_is_a_conflict(customer_client):
    order = order_for(customer_client)
    other = order_for(customer_client)

    first = pay(customer_client, order["id"], key="pay-once")
    again = pay(customer_client, order["id"], key="pay-once")
    misused = pay(customer_client, other["id"], key="pay-once")

    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert_problem(misused, 422, "idempotency_conflict")
    assert [p for p in _payments_of(order["id"])] == [first.json()["id"]]
    assert _payments_of(other["id"]) == []


def _payments_of(order_id) -> list[str]:
    """Read straight from the orders context's table, to prove what was (not) written; the gateway never does."""
    payments = django_apps.get_model("orders", "Payment").objects.filter(order_id=order_id)
    return [str(pk) for pk in payments.values_list("id", flat=True)]


@pytest.mark.parametrize("key", [None, "", "k" * 256])
def test_a_missing_or_too_long_key_is_refused(customer_client, key):
    order = order_for(customer_client)
    headers = {} if key is None else {"Idempotency-Key": key}

    response = customer_client.post(f"/api/v1/orders/{order['id']}/payments", headers=headers)

    body = assert_problem(response, 400, "validation_error")
    assert "Idempotency-Key" in body["errors"]
    assert _payments_of(order["id"]) == []


def test_only_a_pending_order_of_ones_own_can_be_paid(customer_client, client_for, order_staff_client):
    order = order_for(customer_client)
    stranger = client_for(Role.CUSTOMER)

    assert_problem(pay(stranger, order["id"]), 404, "not_found")
    assert_problem(pay(order_staff_client, order["id"]), 404, "not_found")
    assert_problem(pay(customer_client, uuid.uuid4()), 404, "not_found")
    customer_client.post(f"/api/v1/orders/{order['id']}/cancel")
    assert_problem(pay(customer_client, order["id"]), 409, "invalid_transition")
    assert _payments_of(order["id"]) == []


def test_every_payment_endpoint_but_the_webhook_needs_a_signed_in_user(api_client):
    some_id = uuid.uuid4()

    assert_problem(api_client.post(f"/api/v1/orders/{some_id}/payments"), 401, "not_authenticated")
    assert_problem(api_client.get(f"/api/v1/payments/{some_id}"), 401, "not_authenticated")
    assert_problem(api_client.post(f"/api/v1/payments/{some_id}/confirm", {"card_number": GOOD_CARD}),
                   401, "not_authenticated")


# --- reading and confirming ---------------------------------------------------------------------------------------

def test_the_owner_and_order_staff_read_a_payment_and_only_the_owner_sees_its_client_secret(
        customer_client, order_staff_client, client_for):
    payment = pay(customer_client, order_for(customer_client)["id"]).json()

    own = customer_client.get(f"/api/v1/payments/{payment['id']}")
    staff = order_staff_client.get(f"/api/v1/payments/{payment['id']}")
    stranger = client_for(Role.CUSTOMER).get(f"/api/v1/payments/{payment['id']}")

    assert own.json() == payment
    assert staff.status_code == 200
    assert staff.json() == {**payment, "client_secret": None}
    assert_problem(stranger, 404, "not_found")
    assert_problem(customer_client.get(f"/api/v1/payments/{uuid.uuid4()}"), 404, "not_found")


@pytest.mark.parametrize(("card_number", "field_message"), [
    ("", "This field may not be blank."),
    ("4242-4242-abcd-4242", "Enter a card number of 12 to 19 digits."),
    ("4111111111111111", "Use a sandbox test card"),
])
def test_a_card_number_that_is_not_a_sandbox_test_card_is_a_400_and_changes_nothing(customer_client, card_number,
                                                                                   field_message, sandbox_webhooks):
    payment = pay(customer_client, order_for(customer_client)["id"]).json()

    response = confirm(customer_client, payment["id"], card_number)

    body = assert_problem(response, 400, "validation_error")
    assert field_message in body["errors"]["card_number"][0]
    assert sandbox_webhooks.owed() == []
    assert customer_client.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "requires_confirmation"


def test_only_the_owner_confirms_and_only_once(customer_client, order_staff_client, client_for, sandbox_webhooks):
    payment = pay(customer_client, order_for(customer_client)["id"]).json()

    assert_problem(confirm(order_staff_client, payment["id"]), 404, "not_found")
    assert_problem(confirm(client_for(Role.CUSTOMER), payment["id"]), 404, "not_found")
    assert confirm(customer_client, payment["id"]).status_code == 200
    assert_problem(confirm(customer_client, payment["id"]), 409, "invalid_transition")
    assert len(sandbox_webhooks.owed()) == 1


def test_confirming_a_payment_of_an_order_no_longer_pending_is_refused(customer_client, sandbox_webhooks):
    order = order_for(customer_client)
    payment = pay(customer_client, order["id"]).json()
    customer_client.post(f"/api/v1/orders/{order['id']}/cancel")

    assert_problem(confirm(customer_client, payment["id"]), 409, "invalid_transition")
    assert sandbox_webhooks.owed() == []


def test_staff_marking_an_order_paid_records_a_manual_payment_with_nothing_to_confirm(customer_client,
                                                                                    order_staff_client):
    order = order_for(customer_client)
    order_staff_client.post(f"/api/v1/orders/{order['id']}/status", {"status": "paid"}, format="json")
    [payment_id] = _payments_of(order["id"])

    manual = order_staff_client.get(f"/api/v1/payments/{payment_id}").json()
    refused = confirm(customer_client, payment_id)

    assert (manual["provider"], manual["status"], manual["amount"]) == ("manual", "succeeded", order["total"])
    assert_problem(refused, 409, "confirmation_not_supported")
    assert event_types()[-2:] == ["payment.succeeded", "order.paid"]


# --- the webhook endpoint -----------------------------------------------------------------------------------------

def _signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Signed here as the sandbox documents its scheme: HMAC-SHA256 of "<t>.<body>" with the shop's secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    [secret] = settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={timestamp},v1={signature}"}


def test_the_webhook_needs_no_credentials_and_ignores_them(api_client):
    body = json.dumps({"id": "evt_x", "type": "customer.created", "data": {"object": {}}}).encode()

    response = api_client.post(WEBHOOK_URL, body, content_type="application/json",
                               headers={**_signed(body), "Authorization": "Bearer not-a-token"})

    assert response.status_code == 200, response.content
    assert response.json() == {"event_id": "evt_x", "outcome": "ignored"}


@pytest.mark.parametrize("headers", [
    {},
    {SIGNATURE_HEADER: "t=1,v1=00"},
    {SIGNATURE_HEADER: "garbage"},
])
def test_a_missing_or_wrong_signature_is_a_400_problem(api_client, headers):
    body = json.dumps({"id": "evt_x", "type": "customer.created", "data": {"object": {}}}).encode()

    response = api_client.post(WEBHOOK_URL, body, content_type="application/json", headers=headers)

    assert_problem(response, 400, "invalid_signature")


def test_a_stale_signature_is_a_400_problem(api_client):
    body = json.dumps({"id": "evt_x", "type": "customer.created", "data": {"object": {}}}).encode()

    response = api_client.post(WEBHOOK_URL, body, content_type="application/json",
                               headers=_signed(body, timestamp=int(time.time()) - 301))

    assert_problem(response, 400, "invalid_signature")


def test_an_unknown_provider_or_one_not_in_use_is_a_404(api_client):
    body = b"{}"

    assert_problem(api_client.post("/api/v1/payments/webhooks/paypal", body, content_type="application/json"),
                   404, "not_found")
    assert_problem(api_client.post("/api/v1/payments/webhooks/stripe", body, content_type="application/json",
                                   headers={"Stripe-Signature": "t=1,v1=00"}), 404, "not_found")


def test_a_body_that_is_not_json_is_still_only_a_signature_question(api_client):
    body = b"\xff\xfe not json"

    assert_problem(api_client.post(WEBHOOK_URL, body, content_type="text/plain"), 400, "invalid_signature")


def test_the_webhook_is_never_throttled(api_client, settings):
    settings.ECOMMERCE_THROTTLE_ANON = "2/min"
    body = json.dumps({"id": "evt_burst", "type": "customer.created", "data": {"object": {}}}).encode()

    answers = [api_client.post(WEBHOOK_URL, body, content_type="application/json", headers=_signed(body)).status_code
               for _ in range(5)]

    assert answers == [200] * 5
