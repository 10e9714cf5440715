"""E-mail verification: a signed, expiring link mailed to the account's address, and its confirmation.

Rules guarded here:

- The link's token is signed with the secret key (Django's signing, salted for this use only) and names the account
  and a digest of its address, with the time it was made. It proves the mailbox received it; it works for
  ``ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS``, and no longer once the account is deleted or deactivated or its address
  changes. The address itself is not in the link.
- Confirming twice is harmless: the second time changes nothing.
- Whether the address is verified is a claim of every access token, so a verification revokes the older ones
  (``common.access_end``); the client's next refresh brings a token that says so.
- The mail goes after the account is committed, from a worker. Asking for another is limited per account and per
  client by the gateway (``ecommerce/auth_limits.py``); an address already verified gets none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.crypto import constant_time_compare

from apps.users.models import User
from apps.users.services import common, mail
from ecommerce.errors import NotFound, ValidationFailed

SALT = "apps.users.email-verification"
BAD_LINK = "This verification link is not valid (it was altered, or its account no longer exists); ask for a new one."
EXPIRED_LINK = "This verification link has expired; ask for a new one."


def verification_token_make(user: User) -> str:
    return signing.dumps({"user": user.pk, "address": _address_digest(user.email)}, salt=SALT)


def email_verification_confirm(*, token: str) -> None:
    user_id, address = _claims(token)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not constant_time_compare(address, _address_digest(user.email)):
            raise ValidationFailed(errors={"token": [BAD_LINK]})
        if user.email_verified:
            return
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        common.access_end(user.pk, refresh_tokens=False)


def email_verification_resend(*, user_id: int) -> bool:
    """Queues another link; False (nothing sent) when the address is already verified."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("No such user.", resource="user")
    if user.email_verified:
        return False
    verification_mail_queue(user_id=user.pk)
    return True


def verification_mail_queue(*, user_id: int) -> None:
    from apps.users import tasks  # the tasks module imports the services

    mail.mail_task_queue(tasks.send_verification_mail, user_id)


def mail_after_commit(user_id: int) -> Callable[[], None]:
    """For ``transaction.on_commit(..., robust=True)``, which names a failed callback by its ``__qualname__``."""

    def queue_verification_mail() -> None:
        verification_mail_queue(user_id=user_id)

    return queue_verification_mail


def verification_mail_send(*, user_id: int) -> None:
    """The worker's part: a fresh link to an active account whose address is not verified yet; nothing otherwise."""
    user = User.objects.filter(pk=user_id, is_active=True, email_verified=False).first()
    if user is None:
        return
    link = settings.ECOMMERCE_FRONTEND_VERIFY_EMAIL_URL.format(token=verification_token_make(user))
    mail.account_mail_send(template="verify_email", subject="Confirm your e-mail address", user=user,
                           context={"link": link, "valid_hours": settings.ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS})


def _address_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _claims(token: str) -> tuple[int, str]:
    max_age = timedelta(hours=settings.ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS)
    try:
        payload: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationFailed(errors={"token": [EXPIRED_LINK]}) from None
    except signing.BadSignature:
        raise ValidationFailed(errors={"token": [BAD_LINK]}) from None
    # Only this module signs with this salt, but a malformed payload must still be a 400, never a crash.
    if not (isinstance(payload, dict) and isinstance(payload.get("user"), int)
            and isinstance(payload.get("address"), str)):
        raise ValidationFailed(errors={"token": [BAD_LINK]})
    return payload["user"], payload["address"]
