"""Background work of the users context. A reset e-mail is sent here, off the request path, so a reset request
takes the same time whether or not the address has an account."""

from __future__ import annotations

from celery import shared_task

from apps.users import services


@shared_task(name="apps.users.tasks.send_password_reset_mail")
def send_password_reset_mail(email: str) -> None:
    services.password_reset_mail_send(email=email)
