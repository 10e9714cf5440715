"""The account e-mails of the users context (verification links, sign-in alerts): rendered from the templates
``users/email/account/<name>.txt`` and ``.html``, sent by workers, never on the request path.

Rule guarded here: a mail is handed to the workers only once the data it speaks of is committed (callers queue it
from ``transaction.on_commit`` or outside any transaction), and a client asking for one learns when it cannot be
handed over (503) rather than waiting for a mail that will never come."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError

from apps.users.models import User
from ecommerce.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


def account_mail_send(*, template: str, subject: str, user: User, context: dict[str, Any]) -> None:
    """Sends at once. Raises ``OSError`` (``smtplib.SMTPException`` is one) when the mail server fails."""
    context = {"user": user, **context}
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"users/email/account/{template}.txt", context), to=[user.email])
    message.attach_alternative(render_to_string(f"users/email/account/{template}.html", context), "text/html")
    message.send()


def mail_task_queue(task: Task, *args: Any) -> None:
    """Hands a mail to the workers. Raises ``ServiceUnavailable`` when the broker refuses it, or, in a deployment
    without one (the task then runs here and now), when the mail server does."""
    try:
        task.delay(*args)
    except (OperationalError, OSError) as error:
        logger.warning("could not hand %s over: %s", task.name, type(error).__name__)
        raise ServiceUnavailable("E-mail cannot be sent right now; try again shortly.") from error
