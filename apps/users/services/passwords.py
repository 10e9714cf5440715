"""Writes of passwords: change by the user, reset by e-mailed link, and set by an operator.

Rules guarded here: every new password passes Django's validators; a reset request says nothing about whether the
address has an account (no enumeration), neither by its answer nor by its time: the request only queues the work, and
the worker looks the account up and sends the mail; a reset link works once (its token hashes the password); a
password change, reset or set ends every token of the user, and a reset or set starts the account's sign-in limits
afresh, so its owner is never locked out for long by someone else's guesses; a reset also verifies the address it was
mailed to."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from kombu.exceptions import OperationalError

from apps.users.models import User, UserManager
from apps.users.services import common
from ecommerce.auth_limits import login_failures_forget
from ecommerce.errors import ServiceUnavailable, ValidationFailed

logger = logging.getLogger(__name__)

BAD_RESET_LINK = "The password reset link is invalid or has already been used."


def password_change(*, user_id: int, old_password: str, new_password: str) -> None:
    with transaction.atomic():
        user = common.locked_user(user_id)
        if not user.check_password(old_password):
            raise ValidationFailed(errors={"old_password": ["The current password is not correct."]})
        if errors := common.password_errors(new_password, user):
            raise ValidationFailed(errors={"new_password": errors})
        user.set_password(new_password)
        user.save(update_fields=["password"])
        common.access_end(user.pk, refresh_tokens=True)


def password_set(*, user_id: int, new_password: str) -> None:
    """An operator's reset (demo data, support), without the old password."""
    with transaction.atomic():
        user = common.locked_user(user_id)
        if errors := common.password_errors(new_password, user):
            raise ValidationFailed(errors={"new_password": errors})
        user.set_password(new_password)
        user.save(update_fields=["password"])
        common.access_end(user.pk, refresh_tokens=True)
        login_failures_forget(email=user.email)


def password_reset_request(*, email: str) -> None:
    """Queues the reset e-mail. The same for every address, known or not: nothing is looked up here."""
    from apps.users import tasks  # the tasks module imports the services

    try:
        tasks.send_password_reset_mail.delay(email)
    except OperationalError as error:
        logger.warning("the broker refused a password reset e-mail: %s", error)
        raise ServiceUnavailable("Password reset e-mails cannot be sent right now; try again shortly.") from error


def password_reset_mail_send(*, email: str) -> None:
    """The worker's part: a reset link to an active account with this address; nothing otherwise."""
    user = User.objects.filter(email=UserManager.normalize_email(email), is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.ECOMMERCE_FRONTEND_PASSWORD_RESET_URL.format(uid=uid, token=token)
    try:
        send_mail(
            subject="Reset your password",
            message=(
                f"Hello {user.name},\n\nSomeone asked to reset the password of your account. If it was you, "
                f"open this link to choose a new password:\n\n{link}\n\nIf it was not, ignore this e-mail.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except OSError:
        # The caller must get the same answer whether or not the account exists, so a mail failure is only logged.
        logger.exception("password reset e-mail to user %s could not be sent", user.pk)


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(errors={"token": [BAD_RESET_LINK]}) from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        # The token hashes the password, so it stops working as soon as it has been used once.
        if user is None or not default_token_generator.check_token(user, token):
            raise ValidationFailed(errors={"token": [BAD_RESET_LINK]})
        if errors := common.password_errors(new_password, user):
            raise ValidationFailed(errors={"new_password": errors})
        user.set_password(new_password)
        # The link reached this mailbox, which proves it as well as a verification link would.
        user.email_verified = True
        user.save(update_fields=["password", "email_verified"])
        common.access_end(user.pk, refresh_tokens=True)
        login_failures_forget(email=user.email)
