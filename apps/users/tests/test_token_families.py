"""Refresh-token families, against a real database: rotation within a family, a replaced token used again ending the
whole family (its newest token, the user's access tokens) and alerting the owner once, the grace for a client racing
itself, logout, tokens from before families, and the sweep and purge of family rows."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from apps.users import services, tasks, tokens
from apps.users.models import RefreshTokenFamily, User
from apps.users.services import sessions
from ecommerce.errors import InvalidToken, ServiceUnavailable
from ecommerce.token_revocation import ISSUED_AT_MS_CLAIM, access_token_revoked

PASSWORD = "Correct-Horse-Battery-9"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> User:
    return services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")


def sign_in() -> tokens.IssuedTokens:
    return services.auth_login(email="ada@example.com", password=PASSWORD)[1]


def family_of(refresh: str) -> RefreshTokenFamily:
    return RefreshTokenFamily.objects.get(pk=tokens.token_family_id(tokens.read_refresh(refresh)))


def rotated_long_ago(family: RefreshTokenFamily) -> None:
    """As if the family's last rotation happened a minute ago, well outside the grace for a client racing itself."""
    RefreshTokenFamily.objects.filter(pk=family.pk).update(rotated_at=timezone.now() - timedelta(minutes=1))


def access_is_revoked(access: str) -> bool:
    token = AccessToken(access)
    return access_token_revoked(user_id=int(token["user_id"]), issued_at_ms=int(token[ISSUED_AT_MS_CLAIM]))


def assert_refused(refresh: str, message: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        services.auth_refresh(refresh=refresh)
    assert refused.value.detail == message


# --- one family per sign-in ---------------------------------------------------------------------------------------

def test_a_sign_in_starts_a_family_that_each_rotation_carries_on(ada):
    first = sign_in()
    family = family_of(first.refresh)

    second = services.auth_refresh(refresh=first.refresh)
    family.refresh_from_db()

    assert family_of(second.refresh).pk == family.pk
    assert AccessToken(second.access)["family"] == str(family.pk)
    assert (family.user_id, family.ended_at, family.end_reason) == (ada.pk, None, "")
    assert family.previous_jti == tokens.token_jti(tokens.read_refresh(first.refresh))
    assert family.current_jti == tokens.token_jti(tokens.read_refresh(second.refresh))
    assert family.expires_at == datetime_from_epoch(tokens.read_refresh(second.refresh)["exp"])


def test_two_sign_ins_are_two_families(ada):
    assert family_of(sign_in().refresh).pk != family_of(sign_in().refresh).pk


# --- reuse ends the family ----------------------------------------------------------------------------------------

def test_a_replaced_token_used_again_ends_its_family_and_the_users_access(ada, django_capture_on_commit_callbacks):
    stolen = sign_in()
    owners = services.auth_refresh(refresh=stolen.refresh)
    rotated_long_ago(family_of(owners.refresh))

    with django_capture_on_commit_callbacks(execute=True):
        assert_refused(stolen.refresh, sessions.REUSED)

    family = family_of(owners.refresh)
    assert (family.end_reason, family.ended_at is not None) == ("reuse", True)
    assert_refused(owners.refresh, sessions.ENDED)  # the newest token of the family is dead too
    assert BlacklistedToken.objects.filter(token__jti=family.current_jti).exists()
    assert access_is_revoked(owners.access)
    assert access_is_revoked(stolen.access)


def test_the_owner_is_mailed_once_after_the_commit(ada, django_capture_on_commit_callbacks):
    stolen = sign_in()
    owners = services.auth_refresh(refresh=stolen.refresh)
    rotated_long_ago(family_of(owners.refresh))

    with django_capture_on_commit_callbacks(execute=False) as pending:
        assert_refused(stolen.refresh, sessions.REUSED)
    assert mail.outbox == []  # nothing leaves before the end of the family is durable
    for callback in pending:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        assert_refused(stolen.refresh, sessions.ENDED)  # the thief again: the family has already ended
    tasks.send_token_reuse_alert.delay(str(family_of(owners.refresh).pk))  # a redelivered task

    assert len(mail.outbox) == 1
    alert = mail.outbox[0]
    assert alert.to == ["ada@example.com"]
    assert "ended" in alert.subject
    assert "change your password" in alert.body
    assert alert.alternatives[0].mimetype == "text/html"
    assert family_of(owners.refresh).owner_alerted_at is not None


def test_any_older_token_of_the_family_counts_as_reuse_even_at_once(ada):
    oldest = sign_in()
    middle = services.auth_refresh(refresh=oldest.refresh)
    newest = services.auth_refresh(refresh=middle.refresh)

    assert_refused(oldest.refresh, sessions.REUSED)  # not the token replaced last: no grace

    assert_refused(newest.refresh, sessions.ENDED)


def test_reuse_by_the_owner_after_a_thief_rotated_ends_the_thiefs_session(ada):
    owners = sign_in()
    thiefs = services.auth_refresh(refresh=owners.refresh)  # the thief used the copy first
    rotated_long_ago(family_of(thiefs.refresh))

    assert_refused(owners.refresh, sessions.REUSED)

    assert_refused(thiefs.refresh, sessions.ENDED)
    assert access_is_revoked(thiefs.access)


def test_other_sign_ins_of_the_user_keep_their_refresh_tokens(ada):
    laptop = sign_in()
    stolen = sign_in()
    services.auth_refresh(refresh=stolen.refresh)
    rotated_long_ago(family_of(stolen.refresh))

    assert_refused(stolen.refresh, sessions.REUSED)

    assert access_is_revoked(laptop.access)  # the per-user mark: the laptop's next call refreshes...
    renewed = services.auth_refresh(refresh=laptop.refresh)  # ...and carries on
    assert not access_is_revoked(renewed.access)


# --- a client racing itself ---------------------------------------------------------------------------------------

def test_the_token_replaced_last_within_the_grace_is_refused_but_the_family_lives(ada, settings):
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 2
    first = sign_in()
    second = services.auth_refresh(refresh=first.refresh)

    assert_refused(first.refresh, sessions.USED)  # a second tab, a moment later

    assert family_of(second.refresh).ended_at is None
    assert not access_is_revoked(second.access)
    assert services.auth_refresh(refresh=second.refresh).access


def test_without_a_grace_an_immediate_reuse_ends_the_family(ada, settings):
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 0
    first = sign_in()
    second = services.auth_refresh(refresh=first.refresh)

    assert_refused(first.refresh, sessions.REUSED)

    assert_refused(second.refresh, sessions.ENDED)


# --- logout, and tokens ended otherwise ---------------------------------------------------------------------------

def test_logout_ends_the_family_whichever_of_its_tokens_is_given(ada):
    first = sign_in()
    second = services.auth_refresh(refresh=first.refresh)

    services.auth_logout(user_id=ada.pk, refresh=first.refresh)  # an older token of the family
    services.auth_logout(user_id=ada.pk, refresh=first.refresh)  # twice is harmless

    family = family_of(second.refresh)
    assert family.end_reason == "logout"
    assert_refused(second.refresh, sessions.ENDED)
    assert_refused(first.refresh, sessions.ENDED)
    assert family_of(second.refresh).end_reason == "logout"  # not taken for a theft afterwards
    assert mail.outbox == []


def test_a_token_killed_by_a_password_change_is_refused_without_an_alarm(ada, django_capture_on_commit_callbacks):
    issued = sign_in()
    services.password_change(user_id=ada.pk, old_password=PASSWORD, new_password="Another-Stable-Staple-7")

    with django_capture_on_commit_callbacks(execute=True):
        assert_refused(issued.refresh, sessions.ENDED)

    assert family_of(issued.refresh).ended_at is None
    assert mail.outbox == []


def test_a_token_from_before_families_is_exchanged_once_into_a_family(ada):
    legacy = RefreshToken.for_user(ada)  # no family claim
    legacy["role"] = "customer"

    renewed = services.auth_refresh(refresh=str(legacy))

    assert family_of(renewed.refresh).current_jti == tokens.token_jti(tokens.read_refresh(renewed.refresh))
    assert_refused(str(legacy), sessions.USED)
    assert family_of(renewed.refresh).ended_at is None


def test_a_token_naming_a_family_that_is_gone_is_refused(ada):
    issued = sign_in()
    RefreshTokenFamily.objects.all().delete()

    assert_refused(issued.refresh, sessions.ENDED)


def test_a_token_naming_another_users_family_is_refused(ada):
    bob = services.user_register(email="bob@example.com", password=PASSWORD, name="Bob")
    adas_family = family_of(sign_in().refresh)
    forged = RefreshToken.for_user(bob)  # signed by us, so only a bug could mint it; still refused
    forged["family"] = str(adas_family.pk)

    assert_refused(str(forged), sessions.ENDED)
    adas_family.refresh_from_db()
    assert adas_family.ended_at is None


# --- the alert's delivery -----------------------------------------------------------------------------------------

def end_by_reuse(minutes_ago: float = 0) -> RefreshTokenFamily:
    """A family ended by reuse whose alert task never ran (the broker was down), ``minutes_ago``."""
    stolen = sign_in()
    services.auth_refresh(refresh=stolen.refresh)
    rotated_long_ago(family_of(stolen.refresh))
    assert_refused(stolen.refresh, sessions.REUSED)
    family = family_of(stolen.refresh)
    RefreshTokenFamily.objects.filter(pk=family.pk).update(ended_at=timezone.now() - timedelta(minutes=minutes_ago))
    return family


def test_the_sweep_sends_alerts_whose_task_never_ran(ada):
    end_by_reuse(minutes_ago=0.1)  # its own task may still be on its way
    due = end_by_reuse(minutes_ago=5)
    end_by_reuse(minutes_ago=60 * 25)  # the owner has long noticed

    assert tasks.send_due_token_reuse_alerts.delay().get() == 1

    assert len(mail.outbox) == 1
    alerted = {f.pk for f in RefreshTokenFamily.objects.filter(owner_alerted_at__isnull=False)}
    assert alerted == {due.pk}


def test_a_mail_server_failure_leaves_the_alert_to_the_next_sweep(ada, monkeypatch):
    family = end_by_reuse(minutes_ago=5)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp.example.com:587")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert services.token_reuse_alerts_send_due() == 0
    family.refresh_from_db()
    assert family.owner_alerted_at is None
    monkeypatch.undo()

    assert services.token_reuse_alerts_send_due() == 1
    assert len(mail.outbox) == 1


def test_a_mail_the_server_refuses_does_not_hold_up_the_other_alerts(ada, monkeypatch):
    refused = end_by_reuse(minutes_ago=10)
    delivered = end_by_reuse(minutes_ago=5)
    real_send = mail.EmailMultiAlternatives.send

    def refuse_the_first(message, *args, **kwargs):
        if not refused_once:
            refused_once.append(message)
            raise smtplib.SMTPRecipientsRefused({"ada@example.com": (550, b"mailbox unavailable")})
        return real_send(message, *args, **kwargs)

    refused_once: list = []
    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", refuse_the_first)

    assert services.token_reuse_alerts_send_due() == 1

    assert len(mail.outbox) == 1
    alerted = set(RefreshTokenFamily.objects.filter(owner_alerted_at__isnull=False).values_list("pk", flat=True))
    assert alerted == {delivered.pk}
    assert refused.pk not in alerted  # tried again at the next sweep


def test_an_alert_for_an_account_gone_inactive_is_settled_without_a_mail(ada):
    family = end_by_reuse(minutes_ago=5)
    User.objects.filter(pk=ada.pk).update(is_active=False)

    assert services.token_reuse_alert_send(family_id=str(family.pk)) is True

    assert mail.outbox == []
    family.refresh_from_db()
    assert family.owner_alerted_at is not None


def test_a_broker_outage_at_the_commit_loses_no_alert(ada, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        from kombu.exceptions import OperationalError

        raise OperationalError("amqp://broker:5672 refused")

    monkeypatch.setattr(tasks.send_token_reuse_alert, "delay", broker_down)
    stolen = sign_in()
    services.auth_refresh(refresh=stolen.refresh)
    rotated_long_ago(family_of(stolen.refresh))

    with django_capture_on_commit_callbacks(execute=True):
        assert_refused(stolen.refresh, sessions.REUSED)  # the refusal stands; the queueing failure is only logged

    assert mail.outbox == []
    with pytest.raises(ServiceUnavailable):
        sessions._owner_alert_queue(family_id=family_of(stolen.refresh).pk)
    RefreshTokenFamily.objects.update(ended_at=timezone.now() - timedelta(minutes=2))
    assert services.token_reuse_alerts_send_due() == 1
    assert len(mail.outbox) == 1


# --- purge --------------------------------------------------------------------------------------------------------

def test_expired_families_are_purged_but_an_alert_still_due_is_kept(ada):
    live = family_of(sign_in().refresh)
    expired = family_of(sign_in().refresh)
    unalerted = end_by_reuse(minutes_ago=5)
    RefreshTokenFamily.objects.filter(pk__in=[expired.pk, unalerted.pk]).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    assert tasks.purge_expired_token_families.delay().get() == 1

    assert set(RefreshTokenFamily.objects.values_list("pk", flat=True)) == {live.pk, unalerted.pk}


def test_a_deleted_users_families_go_with_them(ada):
    sign_in()

    services.user_delete(user_id=ada.pk)

    assert not RefreshTokenFamily.objects.exists()
