"""Customer e-mails and the low-stock digest, from the event to the mail server: rendered in text and HTML with the
order's number, lines and total, written once per (event, recipient), sent once, retried when the server fails."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import environ
import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.users.notifications import services
from apps.users.notifications.models import EmailNotification, StockLowAlert
from ecommerce.contracts.users import UserDTO, users_service
from ecommerce.events import subscriptions
from ecommerce.events.handling import MalformedEvent, event_handle
from ecommerce.events.models import ProcessedEvent
from ecommerce.roles import Role
from scripts.deployment import free_port
from tests.support.events import envelope, order_data, payment_data, stock_low_data
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.django_db

ORDER_EMAILS = subscriptions.by_consumer("users.order_emails")
STOCK_DIGEST = subscriptions.by_consumer("users.stock_low_digest")
PAYMENT_EMAILS = subscriptions.by_consumer("users.payment_emails")


@pytest.fixture
def customer(make_user: Callable[..., UserDTO]) -> UserDTO:
    return make_user(email="ann@example.com", name="Ann Example")


def _handle(subscription: subscriptions.Subscription, event: dict[str, Any], capture: Any) -> bool:
    with capture(execute=True):
        return event_handle(subscription=subscription, envelope=event)


def test_an_order_created_event_mails_the_customer_the_number_lines_and_total(
        customer: UserDTO, django_capture_on_commit_callbacks: Any) -> None:
    event = envelope("order.created", order_data(user_id=customer.id))

    assert _handle(ORDER_EMAILS, event, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ann@example.com"]
    assert sent.subject == "We received your order ORD-20260101-ABCDEFGH"
    html, html_type = sent.alternatives[0]
    assert html_type == "text/html"
    for body in (sent.body, html):
        assert "ORD-20260101-ABCDEFGH" in body
        assert "Red mug" in body
        assert "MUG-RED" in body
        assert "29.97 USD" in body
        assert "64.97 USD" in body
        assert "Ann Example" in body
    assert "3 x Red mug (MUG-RED) at 9.99 USD = 29.97 USD" in sent.body
    assert "Earl Grey <loose leaf>" in sent.body
    assert "Earl Grey &lt;loose leaf&gt;" in html
    assert sent.extra_headers["Message-ID"].startswith("<notification-")
    notification = EmailNotification.objects.get()
    assert (notification.kind, notification.status, notification.attempts) == ("order_created", "sent", 1)


@pytest.mark.parametrize(("event_type", "subject"), [
    ("order.paid", "Payment received for order ORD-20260101-ABCDEFGH"),
    ("order.shipped", "Your order ORD-20260101-ABCDEFGH is on its way"),
    ("order.delivered", "Your order ORD-20260101-ABCDEFGH was delivered"),
    ("order.canceled", "Your order ORD-20260101-ABCDEFGH was canceled"),
])
def test_every_order_event_has_its_own_mail(customer: UserDTO, django_capture_on_commit_callbacks: Any,
                                            event_type: str, subject: str) -> None:
    _handle(ORDER_EMAILS, envelope(event_type, order_data(user_id=customer.id)), django_capture_on_commit_callbacks)

    assert [m.subject for m in mail.outbox] == [subject]
    assert "64.97 USD" in mail.outbox[0].body


def test_a_paid_order_canceled_tells_the_customer_about_the_refund(
        customer: UserDTO, django_capture_on_commit_callbacks: Any) -> None:
    data = order_data(user_id=customer.id, status="canceled", from_status="paid", reason="canceled by staff")

    _handle(ORDER_EMAILS, envelope("order.canceled", data), django_capture_on_commit_callbacks)

    assert "will be refunded" in mail.outbox[0].body


def test_a_succeeded_payment_mails_a_receipt_with_the_order_number_lines_and_total(
        customer: UserDTO, django_capture_on_commit_callbacks: Any) -> None:
    data = payment_data(user_id=customer.id)

    _handle(PAYMENT_EMAILS, envelope("payment.succeeded", data), django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert (sent.to, sent.subject) == (["ann@example.com"], "Receipt for order ORD-20260101-ABCDEFGH")
    html = sent.alternatives[0][0]
    for body in (sent.body, html):
        assert "We received your payment of 64.97 USD for order ORD-20260101-ABCDEFGH." in body
        assert f"Payment reference: {data['payment_id']}" in body
        assert "Red mug" in body
        assert "MUG-RED" in body
        assert "29.97 USD" in body
    assert "Total:    64.97 USD" in sent.body
    assert EmailNotification.objects.get().kind == "payment_receipt"


@pytest.mark.parametrize(("event_type", "overrides", "subject", "says"), [
    ("payment.failed", {"status": "failed", "failure_message": "Your card was declined."},
     "Your payment for order ORD-20260101-ABCDEFGH did not go through",
     "was not accepted: Your card was declined. Your order is still waiting for payment"),
    ("payment.refunded", {"status": "refunded", "refund_reason": "the order was canceled"},
     "Refund for order ORD-20260101-ABCDEFGH",
     "We refunded 64.97 USD for order ORD-20260101-ABCDEFGH"),
])
def test_a_declined_or_refunded_payment_has_its_own_mail(customer: UserDTO, django_capture_on_commit_callbacks: Any,
                                                         event_type: str, overrides: dict[str, str], subject: str,
                                                         says: str) -> None:
    data = payment_data(user_id=customer.id, **overrides)

    _handle(PAYMENT_EMAILS, envelope(event_type, data), django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.subject == subject
    assert says in sent.body
    assert "Red mug" in sent.body
    assert "64.97 USD" in sent.alternatives[0][0]
    if event_type == "payment.refunded":
        assert "(the order was canceled)" in sent.body


def test_a_payment_event_without_the_order_lines_is_malformed(customer: UserDTO) -> None:
    data = payment_data(user_id=customer.id)
    del data["lines"]

    with pytest.raises(MalformedEvent, match="lines"):
        event_handle(subscription=PAYMENT_EMAILS, envelope=envelope("payment.succeeded", data))

    assert not EmailNotification.objects.exists()


def test_the_same_event_delivered_twice_mails_once(customer: UserDTO,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    event = envelope("order.paid", order_data(user_id=customer.id))

    assert _handle(ORDER_EMAILS, event, django_capture_on_commit_callbacks) is True
    assert _handle(ORDER_EMAILS, event, django_capture_on_commit_callbacks) is False

    assert len(mail.outbox) == 1
    assert EmailNotification.objects.count() == 1
    assert ProcessedEvent.objects.filter(consumer="users.order_emails").count() == 1


def test_one_row_per_event_and_recipient_and_sending_it_again_sends_nothing(
        customer: UserDTO, django_capture_on_commit_callbacks: Any) -> None:
    event = envelope("order.created", order_data(user_id=customer.id))
    _handle(ORDER_EMAILS, event, django_capture_on_commit_callbacks)
    notification = EmailNotification.objects.get()

    assert services.notification_send(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailNotification.objects.create(event_id=notification.event_id, recipient=notification.recipient,
                                         kind=notification.kind, subject="again", body_text="", body_html="")


def test_an_event_of_a_deleted_account_is_handled_without_a_mail(
        customer: UserDTO, django_capture_on_commit_callbacks: Any) -> None:
    users_service.user_delete(user_id=customer.id)

    assert _handle(ORDER_EMAILS, envelope("order.created", order_data(user_id=customer.id)),
                   django_capture_on_commit_callbacks) is True

    assert mail.outbox == []
    assert not EmailNotification.objects.exists()


def test_an_event_without_what_the_mail_needs_is_malformed_and_changes_nothing(customer: UserDTO) -> None:
    data = order_data(user_id=customer.id)
    del data["lines"]

    with pytest.raises(MalformedEvent, match="lines"):
        event_handle(subscription=ORDER_EMAILS, envelope=envelope("order.created", data))

    assert not ProcessedEvent.objects.exists()
    assert not EmailNotification.objects.exists()


def test_a_real_smtp_server_receives_the_text_and_html_parts(customer: UserDTO, settings: Any,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    with SmtpServer(free_port()) as server:
        for name, value in environ.Env.email_url_config(server.url).items():
            setattr(settings, name, value)

        _handle(ORDER_EMAILS, envelope("order.shipped", order_data(user_id=customer.id)),
                django_capture_on_commit_callbacks)

        received = server.sink.wait_for("ann@example.com", timeout=10)
    assert len(received) == 1
    assert received[0].subject == "Your order ORD-20260101-ABCDEFGH is on its way"
    text, html = received[0].part("text/plain"), received[0].part("text/html")
    for body in (text, html):
        assert "ORD-20260101-ABCDEFGH" in body
        assert "Red mug" in body
        assert "64.97 USD" in body


def test_a_mail_server_that_is_down_is_retried_with_backoff_then_given_up(
        customer: UserDTO, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{free_port()}").items():
        setattr(settings, name, value)  # nothing listens there: connection refused
    settings.EMAIL_TIMEOUT = 2
    _handle(ORDER_EMAILS, envelope("order.created", order_data(user_id=customer.id)),
            django_capture_on_commit_callbacks)
    notification = EmailNotification.objects.get()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in notification.last_error
    assert notification.next_attempt_at > timezone.now()

    # Not due yet: the sweep leaves it alone.
    assert services.notifications_send_due() == 0
    assert EmailNotification.objects.get().attempts == 1

    later = timezone.now() + timedelta(days=1)
    for _ in range(services.MAX_SEND_ATTEMPTS - 1):
        services.notifications_send_due(now=later)
        later += timedelta(days=1)

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", services.MAX_SEND_ATTEMPTS)


def test_the_sweep_sends_notifications_whose_task_never_ran(customer: UserDTO) -> None:
    EmailNotification.objects.create(
        event_id=uuid.uuid4(), recipient="ann@example.com", kind="order_paid", subject="Paid",
        body_text="Paid.", body_html="<p>Paid.</p>", created_at=timezone.now() - timedelta(minutes=5))
    EmailNotification.objects.create(
        event_id=uuid.uuid4(), recipient="ann@example.com", kind="order_paid", subject="Just written",
        body_text="Paid.", body_html="<p>Paid.</p>")

    assert services.notifications_send_due() == 1

    assert [m.subject for m in mail.outbox] == ["Paid"]


def test_low_stock_goes_to_catalog_staff_as_one_digest_per_period(
        make_user: Callable[..., UserDTO], django_capture_on_commit_callbacks: Any) -> None:
    make_user(Role.CATALOG_STAFF, email="cat1@example.com", name="Cat One")
    make_user(Role.CATALOG_STAFF, email="cat2@example.com", name="Cat Two")
    make_user(Role.CUSTOMER, email="buyer@example.com")
    make_user(Role.ORDER_STAFF, email="orders@example.com")
    for product_id, sku, name, available in ((7, "LAMP", "Desk lamp", 4), (8, "BULB", "Bulb", 2),
                                              (7, "LAMP", "Desk lamp", 1)):
        _handle(STOCK_DIGEST, envelope("stock.low", stock_low_data(product_id=product_id, sku=sku, name=name,
                                                                   available=available)),
                django_capture_on_commit_callbacks)
    assert mail.outbox == []  # one event is not one mail

    with django_capture_on_commit_callbacks(execute=True):
        assert services.stock_low_digest_send() == 2

    assert sorted(m.to[0] for m in mail.outbox) == ["cat1@example.com", "cat2@example.com"]
    digest = mail.outbox[0]
    assert digest.subject == "Low stock: 2 products need restocking"
    assert digest.body.count("LAMP") == 1
    assert "Desk lamp: 1 available" in digest.body
    assert "Bulb: 2 available" in digest.body
    assert "Desk lamp" in digest.alternatives[0][0]
    assert not StockLowAlert.objects.filter(digest_id=None).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.stock_low_digest_send() == 0
    assert len(mail.outbox) == 2
