"""Sign-in sessions: login, refresh-token rotation within a family, logout, and the alarm when a token is copied.

Rules guarded here:

- A sign-in starts a *family*: its refresh token and every token that replaces another by rotation. Only the
  family's newest token can be exchanged, and only once: the exchange holds the family's row lock, so of two
  refreshes racing with one token exactly one wins.
- A replaced token presented again means it was copied: the server cannot tell whether the owner or a thief holds
  the newest token, so the whole family ends. Its newest token is blacklisted, every access token of the user is
  revoked within seconds (the per-user mark of ``ecommerce/token_revocation.py``: the user's other sign-ins keep
  their refresh tokens and simply get new access tokens at their next refresh), and the owner is told by e-mail
  after the commit. A worker's sweep sends the alerts whose task never ran, so a broker outage loses none.
- Except a client racing itself: the token replaced last, presented by a request that started no later than
  ``ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS`` after its rotation (two tabs refreshing at once), is refused like any
  used token and the family lives on. The window never issues a token, it only withholds the alarm, so it gives a
  thief nothing; it is kept short so that an owner who comes back right after a thief's rotation still ends it.
- Logging out ends the family of the token presented, whichever of its tokens that is.
- A token issued before families existed is exchanged once more, and the new pair starts a family.
- A family lives until its newest token expires; expired families are purged, except an alarm not yet sent.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from apps.users import tokens
from apps.users.models import RefreshTokenFamily, User
from apps.users.services import common, mail
from ecommerce.errors import InvalidCredentials, InvalidToken

logger = logging.getLogger(__name__)

EndReason = RefreshTokenFamily.EndReason

INVALID = "The refresh token is invalid or expired."
USED = "The refresh token has already been used."
ENDED = "The sign-in of this refresh token has ended; sign in again."
REUSED = "This refresh token had already been replaced; its sign-in has ended everywhere. Sign in again."

# An alert's own task normally runs within seconds of the commit; the sweep leaves it that long, and gives up on an
# alert that could not be sent for a day (by then the owner has long noticed being signed out).
ALERT_SWEEP_AFTER = timedelta(minutes=1)
ALERT_GIVE_UP_AFTER = timedelta(days=1)
ALERT_SWEEP_BATCH = 100


def auth_login(*, email: str, password: str) -> tuple[User, tokens.IssuedTokens]:
    user = authenticate(None, email=email, password=password)
    if user is None:  # unknown e-mail, wrong password and inactive account look the same
        raise InvalidCredentials("No active account with these credentials.")
    update_last_login(None, user)
    return user, _family_start(user)


def auth_refresh(*, refresh: str) -> tokens.IssuedTokens:
    started_at = timezone.now()
    token = _read(refresh)
    with transaction.atomic():
        user = User.objects.filter(pk=tokens.token_user_id(token), is_active=True).first()
        if user is None:
            raise InvalidToken("The refresh token's user is gone or inactive.")
        family_id = tokens.token_family_id(token)
        if family_id is None:
            if not tokens.consume(token):
                raise InvalidToken(USED)
            return _family_start(user)
        family = _locked_family(family_id, user_id=user.pk)
        if family is None or family.ended_at is not None:
            raise InvalidToken(ENDED)
        jti = tokens.token_jti(token)
        if jti == family.current_jti:
            if not tokens.consume(token):  # blacklisted with all the user's tokens (new password, ...)
                raise InvalidToken(ENDED)
            # A fresh read of the user means the new pair carries the role and e-mail status as they are now.
            return _family_rotate(family, user)
        if _racing_its_own_rotation(family, jti, started_at):
            raise InvalidToken(USED)
        _family_end(family, EndReason.REUSE)
        common.access_end(user.pk, refresh_tokens=False)
        transaction.on_commit(_owner_alert_after_commit(family.pk), robust=True)
        logger.warning("refresh token reused: sign-in %s of user %s ended", family.pk, user.pk)
    # Raised after the commit: the family must stay ended.
    raise InvalidToken(REUSED)


def auth_logout(*, user_id: int, refresh: str) -> None:
    token = _read(refresh)
    if tokens.token_user_id(token) != user_id:
        raise InvalidToken("The refresh token does not belong to this user.")
    family_id = tokens.token_family_id(token)
    with transaction.atomic():
        # The family's lock first, as a refresh takes them, so a logout racing a refresh cannot deadlock with it.
        family = _locked_family(family_id, user_id=user_id) if family_id else None
        tokens.consume(token)  # already blacklisted is fine: logging out twice is harmless
        if family is not None and family.ended_at is None:
            _family_end(family, EndReason.LOGOUT)


# --- the alarm ----------------------------------------------------------------------------------------------------
def token_reuse_alert_send(*, family_id: str) -> bool:
    """The worker's part: mails the owner of a family ended by reuse, once. A mail server that fails raises, which
    rolls the mark back, so the task's retry or the sweep sends it later. True when this call settled the alert."""
    with transaction.atomic():
        family = (RefreshTokenFamily.objects.select_for_update()
                  .filter(pk=family_id, end_reason=EndReason.REUSE, owner_alerted_at__isnull=True).first())
        if family is None:
            return False
        owner = User.objects.filter(pk=family.user_id, is_active=True).first()
        if owner is not None:
            mail.account_mail_send(
                template="token_reuse", subject="A sign-in to your account was ended for your safety", user=owner,
                context={"ended_at": family.ended_at, "signed_in_at": family.created_at},
            )
        family.owner_alerted_at = timezone.now()
        family.save(update_fields=["owner_alerted_at"])
    return True


def token_reuse_alerts_send_due() -> int:
    """The sweep: alerts whose own task never ran (the broker was down at the commit) or failed. A mail the server
    refuses is left for the next sweep and the others go on; a server that cannot be reached stops the sweep (every
    other mail would wait for it too), and the next sweep tries again."""
    now = timezone.now()
    due = list(RefreshTokenFamily.objects.filter(
        end_reason=EndReason.REUSE, owner_alerted_at__isnull=True,
        ended_at__lte=now - ALERT_SWEEP_AFTER, ended_at__gte=now - ALERT_GIVE_UP_AFTER,
    ).order_by("ended_at").values_list("pk", flat=True)[:ALERT_SWEEP_BATCH])
    sent = 0
    for family_id in due:
        try:
            sent += token_reuse_alert_send(family_id=str(family_id))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as refused:
            logger.warning("the mail server refused the reuse alert of sign-in %s: %s", family_id, refused)
        except OSError:
            logger.warning("the mail server cannot be reached for reuse alerts; the next sweep tries again",
                           exc_info=True)
            break
    return sent


def token_families_purge_expired() -> int:
    """Families whose newest token has expired can refuse nothing more; an alarm still to be sent keeps its row."""
    now = timezone.now()
    expired = RefreshTokenFamily.objects.filter(expires_at__lt=now).exclude(
        end_reason=EndReason.REUSE, owner_alerted_at__isnull=True, ended_at__gte=now - ALERT_GIVE_UP_AFTER)
    deleted, _ = expired.delete()
    return deleted


# --- families -----------------------------------------------------------------------------------------------------
def _read(refresh: str) -> tokens.RefreshToken:
    try:
        return tokens.read_refresh(refresh)
    except TokenError as error:
        raise InvalidToken(INVALID) from error


def _locked_family(family_id: uuid.UUID, *, user_id: int) -> RefreshTokenFamily | None:
    return RefreshTokenFamily.objects.select_for_update().filter(pk=family_id, user_id=user_id).first()


def _family_start(user: User) -> tokens.IssuedTokens:
    family_id = uuid.uuid4()
    with transaction.atomic():
        issued = tokens.issue_tokens(user, family_id=family_id)
        RefreshTokenFamily.objects.create(id=family_id, user=user, current_jti=issued.refresh_jti,
                                          expires_at=issued.refresh_expires_at)
    return issued


def _family_rotate(family: RefreshTokenFamily, user: User) -> tokens.IssuedTokens:
    issued = tokens.issue_tokens(user, family_id=family.pk)
    family.previous_jti, family.current_jti = family.current_jti, issued.refresh_jti
    family.rotated_at = timezone.now()
    family.expires_at = issued.refresh_expires_at
    family.save(update_fields=["previous_jti", "current_jti", "rotated_at", "expires_at"])
    return issued


def _racing_its_own_rotation(family: RefreshTokenFamily, jti: str, started_at: datetime) -> bool:
    """The token replaced last, by a request that started before or just after the rotation (it then waited for
    the family's lock): a client racing itself, not a copy."""
    grace = timedelta(seconds=settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS)
    return (jti == family.previous_jti and family.rotated_at is not None
            and started_at <= family.rotated_at + grace)


def _family_end(family: RefreshTokenFamily, reason: str) -> None:
    family.ended_at = timezone.now()
    family.end_reason = reason
    family.save(update_fields=["ended_at", "end_reason"])
    tokens.blacklist_jti(family.current_jti)


def _owner_alert_queue(*, family_id: uuid.UUID) -> None:
    from apps.users import tasks  # the tasks module imports the services

    mail.mail_task_queue(tasks.send_token_reuse_alert, str(family_id))


def _owner_alert_after_commit(family_id: uuid.UUID) -> Callable[[], None]:
    # A named function, not a partial: a robust on_commit callback that fails is logged by its __qualname__.
    def queue_token_reuse_alert() -> None:
        _owner_alert_queue(family_id=family_id)

    return queue_token_reuse_alert
