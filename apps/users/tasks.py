"""Background work of the users context: sending e-mail. A reset e-mail is sent here, off the request path, so a
reset request takes the same time whether or not the address has an account. The notification tasks are idempotent
(a notification row is sent once; a digest claims its alerts), so a redelivered message does no harm. Account e-mails
(verification links, sign-in alerts) are retried with backoff while the mail server fails; a sign-in alert is sent
once however often its task is delivered (its row records it)."""

from __future__ import annotations

from typing import NoReturn

from celery import Task, shared_task

from apps.users import services
from apps.users.notifications import services as notifications

MAIL_MAX_RETRIES = 8


def _retry_later(task: Task, error: OSError) -> NoReturn:
    """A worker tries again after 30 s, 60 s, ... at most half an hour apart. Without a broker the task runs in the
    process that queued it, which cannot wait: the failure goes back to the caller (503) instead."""
    if task.request.is_eager:
        raise error
    raise task.retry(exc=error, countdown=min(1800, 30 * 2 ** task.request.retries), max_retries=MAIL_MAX_RETRIES)


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


@shared_task(bind=True, name="apps.users.tasks.send_verification_mail", ignore_result=True)
def send_verification_mail(self: Task, user_id: int) -> None:
    try:
        services.verification_mail_send(user_id=user_id)
    except OSError as error:  # smtplib's errors are OSErrors
        _retry_later(self, error)


@shared_task(bind=True, name="apps.users.tasks.send_token_reuse_alert", ignore_result=True)
def send_token_reuse_alert(self: Task, family_id: str) -> None:
    try:
        services.token_reuse_alert_send(family_id=family_id)
    except OSError as error:
        _retry_later(self, error)


@shared_task(name="apps.users.tasks.send_due_token_reuse_alerts", ignore_result=True)
def send_due_token_reuse_alerts() -> int:
    """Beat runs this every minute: alerts whose own task never ran or gave up."""
    return services.token_reuse_alerts_send_due()


@shared_task(name="apps.users.tasks.purge_expired_token_families", ignore_result=True)
def purge_expired_token_families() -> int:
    return services.token_families_purge_expired()
