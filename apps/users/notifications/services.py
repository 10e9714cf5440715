"""Writes of the users context's e-mail: the notification rows, sending them, and the low-stock digest.

Rules guarded here:
- A notification is rendered and stored in the transaction that handled its event; sending happens after commit
  (a Celery task, or the sweep of due notifications should that task never run), never before the row is durable.
- Sending holds the row's lock and marks it sent in the same transaction, so two deliveries of the same task send
  one e-mail. A mail server that refuses or cannot be reached is retried with backoff, up to MAX_SEND_ATTEMPTS.
- The low-stock digest claims the alerts it lists in the transaction that writes its mails, so an alert appears in
  exactly one digest, and a period with no alerts sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from apps.users.models import User
from apps.users.notifications.models import EmailNotification, StockLowAlert
from ecommerce.money import to_money
from ecommerce.roles import Role

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 10
SEND_BACKOFF_MAX = timedelta(hours=1)
# A pending notification younger than this is still being sent by the task its transaction scheduled.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH_SIZE = 100

Kind = EmailNotification.Kind


@dataclass(frozen=True)
class OrderMailCopy:
    kind: str
    subject: str
    headline: str
    message: str


ORDER_MAILS: dict[str, OrderMailCopy] = {
    "order.created": OrderMailCopy(
        Kind.ORDER_CREATED, "We received your order {number}", "Thank you for your order",
        "We have received your order {number} and reserved its items for you."),
    "order.paid": OrderMailCopy(
        Kind.ORDER_PAID, "Payment received for order {number}", "Thank you for your payment",
        "Your payment for order {number} has arrived; we are preparing your parcel."),
    "order.shipped": OrderMailCopy(
        Kind.ORDER_SHIPPED, "Your order {number} is on its way", "Your order has shipped",
        "Your order {number} has left our warehouse."),
    "order.delivered": OrderMailCopy(
        Kind.ORDER_DELIVERED, "Your order {number} was delivered", "Your order has arrived",
        "Your order {number} was delivered. We hope you enjoy it."),
    "order.canceled": OrderMailCopy(
        Kind.ORDER_CANCELED, "Your order {number} was canceled", "Your order was canceled",
        "Your order {number} was canceled."),
}

# A payment's mails: the receipt, the decline and the refund. The order mails above say where the order stands;
# these say what happened to the money, naming the amount and the payment.
PAYMENT_MAILS: dict[str, OrderMailCopy] = {
    "payment.succeeded": OrderMailCopy(
        Kind.PAYMENT_RECEIPT, "Receipt for order {number}", "Your receipt",
        "We received your payment of {amount} {currency} for order {number}."),
    "payment.failed": OrderMailCopy(
        Kind.PAYMENT_FAILED, "Your payment for order {number} did not go through", "Your payment did not go through",
        "Your payment of {amount} {currency} for order {number} was not accepted: {failure_message} "
        "Your order is still waiting for payment; you can pay it with another card."),
    "payment.refunded": OrderMailCopy(
        Kind.PAYMENT_REFUNDED, "Refund for order {number}", "Your refund",
        "We refunded {amount} {currency} for order {number} to the card or account you paid with."),
}


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class OrderMail:
    """What a customer e-mail about an order shows; built from the event by the consumer."""

    event_id: uuid.UUID
    event_type: str
    user_id: int
    number: str
    lines: list[OrderLine]
    subtotal: Decimal
    shipping_cost: Decimal
    discount: Decimal
    total: Decimal
    currency: str
    from_status: str = ""
    reason: str = ""
    # For a payment's mail: the payment, the amount it moved and why it failed or was refunded.
    payment_id: uuid.UUID | None = None
    amount: Decimal | None = None
    failure_message: str = ""
    refund_reason: str = ""


def _cancellation_note(mail: OrderMail) -> str:
    if mail.from_status == "paid":
        return "Your payment will be refunded to the card or account you paid with."
    if mail.reason == "expired":
        return "It was not paid in time, so its items went back on sale."
    return ""


def _note(mail: OrderMail) -> str:
    if mail.event_type == "order.canceled":
        return _cancellation_note(mail)
    if mail.payment_id is not None:
        reason = f" ({mail.refund_reason})" if mail.event_type == "payment.refunded" and mail.refund_reason else ""
        return f"Payment reference: {mail.payment_id}{reason}"
    return ""


def order_notification_create(*, mail: OrderMail) -> EmailNotification | None:
    """Render and store the customer's e-mail about an order or payment event; None when the account no longer
    exists."""
    user = User.objects.filter(pk=mail.user_id).only("email", "name").first()
    if user is None:
        logger.info("no e-mail for event %s: user %s no longer exists", mail.event_id, mail.user_id)
        return None
    copy = ORDER_MAILS.get(mail.event_type) or PAYMENT_MAILS[mail.event_type]
    amount = to_money(mail.amount if mail.amount is not None else mail.total)
    failure = mail.failure_message.strip() or "the card was declined."
    context = {
        "name": user.name or user.email, "headline": copy.headline,
        "message": copy.message.format(number=mail.number, amount=amount, currency=mail.currency,
                                       failure_message=failure if failure.endswith(".") else f"{failure}."),
        "note": _note(mail),
        "number": mail.number, "lines": mail.lines, "currency": mail.currency,
        "subtotal": to_money(mail.subtotal), "shipping_cost": to_money(mail.shipping_cost),
        "discount": to_money(mail.discount), "total": to_money(mail.total),
    }
    return _notification_create(
        event_id=mail.event_id, recipient=user.email, kind=copy.kind,
        subject=copy.subject.format(number=mail.number), template="users/email/order", context=context,
    )


def _notification_create(*, event_id: uuid.UUID, recipient: str, kind: str, subject: str, template: str,
                         context: dict[str, Any]) -> EmailNotification:
    notification = EmailNotification.objects.create(
        event_id=event_id, recipient=recipient, kind=kind, subject=subject,
        body_text=render_to_string(f"{template}.txt", context).strip() + "\n",
        body_html=render_to_string(f"{template}.html", context),
    )
    transaction.on_commit(lambda: _enqueue_send(notification.pk), robust=True)
    return notification


def _enqueue_send(notification_id: int) -> None:
    from apps.users import tasks  # the tasks module imports this one

    tasks.send_notification.delay(notification_id)


def _message_id(notification: EmailNotification) -> str:
    # The same notification always carries the same Message-ID, so a mail sent twice after a crash is recognisably
    # one message to mail servers and clients that drop duplicates.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    return f"<notification-{notification.pk}.{notification.event_id}@{domain}>"


def notification_send(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send one pending notification; True when it was sent now. Already sent (or failed for good): False."""
    with transaction.atomic():
        notification = EmailNotification.objects.select_for_update().filter(
            pk=notification_id, status=EmailNotification.Status.PENDING).first()
        if notification is None:
            return False
        message = EmailMultiAlternatives(
            subject=notification.subject, body=notification.body_text, to=[notification.recipient],
            headers={"Message-ID": _message_id(notification)},
        )
        message.attach_alternative(notification.body_html, "text/html")
        notification.attempts += 1
        try:
            message.send()
        except OSError as error:  # smtplib's errors are OSErrors: refused, unreachable, timed out
            _send_failed(notification, error, now=now or timezone.now())
            return False
        notification.status = EmailNotification.Status.SENT
        notification.sent_at = now or timezone.now()
        notification.last_error = ""
        notification.next_attempt_at = None
        notification.save(update_fields=["status", "sent_at", "attempts", "last_error", "next_attempt_at"])
    return True


def _send_failed(notification: EmailNotification, error: OSError, *, now: datetime) -> None:
    notification.last_error = f"{type(error).__name__}: {error}"[:500]
    if notification.attempts >= MAX_SEND_ATTEMPTS:
        notification.status = EmailNotification.Status.FAILED
        logger.error("giving up on e-mail %s to %s after %s attempts: %s", notification.pk, notification.recipient,
                     notification.attempts, notification.last_error)
    else:
        delay = min(timedelta(minutes=2 ** (notification.attempts - 1)), SEND_BACKOFF_MAX)
        notification.next_attempt_at = now + delay
        logger.warning("e-mail %s not sent (attempt %s), retrying in %s: %s", notification.pk,
                       notification.attempts, delay, notification.last_error)
    notification.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])


def notifications_send_due(*, now: datetime | None = None) -> int:
    """Send pending notifications whose task never ran (broker trouble) or whose retry is due; returns how many."""
    now = now or timezone.now()
    due = list(
        EmailNotification.objects.filter(status=EmailNotification.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True, created_at__lt=now - SWEEP_GRACE) | Q(next_attempt_at__lte=now))
        .order_by("created_at").values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    return sum(notification_send(notification_id=pk, now=now) for pk in due)


# --- low stock ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StockLow:
    event_id: uuid.UUID
    occurred_at: datetime
    product_id: int
    sku: str
    name: str
    available: int
    threshold: int


def stock_low_alert_record(*, alert: StockLow) -> StockLowAlert:
    return StockLowAlert.objects.create(
        event_id=alert.event_id, product_id=alert.product_id, sku=alert.sku, name=alert.name,
        available=alert.available, threshold=alert.threshold, occurred_at=alert.occurred_at,
    )


def stock_low_digest_send(*, now: datetime | None = None) -> int:
    """One e-mail to each active catalog staff member listing every product that ran low since the last digest;
    returns how many e-mails were written. Nothing ran low: nothing is sent."""
    now = now or timezone.now()
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        alerts = list(StockLowAlert.objects.select_for_update(skip_locked=skip_locked)
                      .filter(digest_id=None, occurred_at__lte=now).order_by("occurred_at", "id"))
        if not alerts:
            return 0
        digest_id = uuid.uuid4()
        StockLowAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(digest_id=digest_id)
        latest: dict[int, StockLowAlert] = {}
        for alert in alerts:  # oldest first, so the last one seen for a product is its latest state
            latest[alert.product_id] = alert
        products = sorted(latest.values(), key=lambda alert: (alert.available, alert.sku))
        recipients = list(User.objects.filter(role=Role.CATALOG_STAFF, is_active=True)
                          .order_by("id").values_list("email", "name"))
        if not recipients:
            logger.warning("low-stock digest %s lists %s product(s) but no active catalog staff can receive it",
                           digest_id, len(products))
        subject = f"Low stock: {len(products)} product{'s' if len(products) != 1 else ''} need restocking"
        for email, name in recipients:
            _notification_create(
                event_id=digest_id, recipient=email, kind=Kind.STOCK_LOW_DIGEST, subject=subject,
                template="users/email/stock_low_digest",
                context={"name": name or email, "products": products, "since": alerts[0].occurred_at, "until": now},
            )
    return len(recipients)
