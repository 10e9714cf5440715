"""Background work of the users context: sending e-mail. A reset e-mail is sent here, off the request path, so a
reset request takes the same time whether or not the address has an account. The notification tasks are idempotent
(a notification row is sent once; a digest claims its alerts), so a redelivered message does no harm."""

from __future__ import annotations

from celery import shared_task

from apps.users import services
from apps.users.notifications import services as notifications


@shared_task(name="apps.users.tasks.send_password_reset_mail")
def send_password_reset_mail(email: str) -> None:
    services.password_reset_mail_send(email=email)


@shared_task(name="apps.users.tasks.send_notification", ignore_result=True)
def send_notification(notification_id: int) -> bool:
    """Scheduled when a notification commits; a failure is recorded on the row and retried by the sweep."""
    return notifications.notification_send(notification_id=notification_id)


@shared_task(name="apps.users.tasks.send_due_notifications", ignore_result=True)
def send_due_notifications() -> int:
    """Beat runs this every minute: notifications whose task never ran, and retries that are due."""
    return notifications.notifications_send_due()


@shared_task(name="apps.users.tasks.send_stock_low_digest", ignore_result=True)
def send_stock_low_digest() -> int:
    """Beat runs this every ECOMMERCE_STOCK_DIGEST_MINUTES: one e-mail per catalog staff member, listing them all."""
    return notifications.stock_low_digest_send()
