"""E-mail verification in the users context, against a real database: the mail a registration sends after its
commit, the signed link and everything that makes it invalid, confirming (twice), asking again, the access-token
claim, and what a broker or mail server outage does."""

from __future__ import annotations

import re
import time

import pytest
from celery.exceptions import Retry
from django.core import mail, signing
from kombu.exceptions import OperationalError
from rest_framework_simplejwt.tokens import AccessToken

from apps.users import services, tasks
from apps.users.models import User
from apps.users.services import verification
from ecommerce.errors import NotFound, ServiceUnavailable, ValidationFailed
from ecommerce.token_revocation import ISSUED_AT_MS_CLAIM, access_token_revoked

PASSWORD = "Correct-Horse-Battery-9"
LINK = re.compile(r"https://shop\.example\.com/verify\?token=(\S+)")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frontend_link(settings) -> None:
    settings.ECOMMERCE_FRONTEND_VERIFY_EMAIL_URL = "https://shop.example.com/verify?token={token}"


def register(email: str = "ada@example.com") -> User:
    return services.user_register(email=email, password=PASSWORD, name="Ada")


def token_in(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def mailed_token(email: str = "ada@example.com") -> str:
    (message,) = [m for m in mail.outbox if m.to == [email]]
    return token_in(message)


def verified(user: User) -> bool:
    return User.objects.get(pk=user.pk).email_verified


def reason(raised: pytest.ExceptionInfo[ValidationFailed]) -> str:
    assert list(raised.value.errors) == ["token"]
    return raised.value.errors["token"][0]


# --- the mail -----------------------------------------------------------------------------------------------------

def test_registration_mails_the_link_once_the_account_is_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        user = register()
    assert mail.outbox == []  # not before the commit: the worker would not find the account

    for callback in pending:
        callback()

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Confirm your e-mail address"
    assert "48 hours" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert token_in(message) in html
    assert "ada@example.com" not in token_in(message)  # the address is not in the link
    assert not verified(user)


def test_a_failed_registration_mails_nothing(django_capture_on_commit_callbacks):
    register()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        register(email="ADA@example.com")

    assert mail.outbox == []


def test_a_broker_outage_does_not_fail_the_registration(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise OperationalError("amqp://broker:5672 refused")

    monkeypatch.setattr(tasks.send_verification_mail, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        user = register()

    assert User.objects.filter(pk=user.pk).exists()
    assert mail.outbox == []  # the owner asks for another link (resend)


# --- confirming ---------------------------------------------------------------------------------------------------

def test_the_link_verifies_the_address_and_a_second_time_is_harmless():
    user = register()
    token = verification.verification_token_make(user)

    services.email_verification_confirm(token=token)
    services.email_verification_confirm(token=token)

    assert verified(user)


def test_verifying_revokes_the_access_tokens_that_claim_otherwise():
    user = register()
    _, before = services.auth_login(email="ada@example.com", password=PASSWORD)
    assert AccessToken(before.access)["email_verified"] is False

    services.email_verification_confirm(token=verification.verification_token_make(user))
    after = services.auth_refresh(refresh=before.refresh)

    old = AccessToken(before.access)
    assert access_token_revoked(user_id=user.pk, issued_at_ms=int(old[ISSUED_AT_MS_CLAIM]))
    assert AccessToken(after.access)["email_verified"] is True
    assert not access_token_revoked(user_id=user.pk, issued_at_ms=int(AccessToken(after.access)[ISSUED_AT_MS_CLAIM]))


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c", "é" * 40, "x" * 512])
def test_a_malformed_link_is_refused(token):
    register()

    with pytest.raises(ValidationFailed) as raised:
        services.email_verification_confirm(token=token)

    assert reason(raised) == verification.BAD_LINK


def test_an_altered_link_is_refused():
    user = register()
    other = register(email="bob@example.com")
    token = verification.verification_token_make(user)
    payload, stamp, signature = token.split(":")
    foreign_payload = verification.verification_token_make(other).split(":")[0]

    for altered in (f"{foreign_payload}:{stamp}:{signature}", f"{payload}:{stamp}:{signature[:-2]}xx"):
        with pytest.raises(ValidationFailed) as raised:
            services.email_verification_confirm(token=altered)
        assert reason(raised) == verification.BAD_LINK
    assert not verified(user)
    assert not verified(other)


def test_a_link_signed_for_another_purpose_is_refused():
    user = register()
    token = signing.dumps({"user": user.pk, "address": "0" * 32}, salt="another-purpose")

    with pytest.raises(ValidationFailed) as raised:
        services.email_verification_confirm(token=token)

    assert reason(raised) == verification.BAD_LINK


def test_an_expired_link_is_refused_and_says_so(settings, monkeypatch):
    settings.ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS = 1
    user = register()
    two_hours_ago = time.time() - 2 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: two_hours_ago)
    token = verification.verification_token_make(user)
    monkeypatch.undo()

    with pytest.raises(ValidationFailed) as raised:
        services.email_verification_confirm(token=token)

    assert reason(raised) == verification.EXPIRED_LINK
    assert not verified(user)


def test_a_link_whose_account_is_gone_inactive_or_readdressed_is_refused():
    deleted, inactive, readdressed = register("a@example.com"), register("b@example.com"), register("c@example.com")
    tokens = {user.pk: verification.verification_token_make(user) for user in (deleted, inactive, readdressed)}
    services.user_delete(user_id=deleted.pk)
    services.user_update(user_id=inactive.pk, changes={"is_active": False})
    User.objects.filter(pk=readdressed.pk).update(email="new-c@example.com")

    for user_id, token in tokens.items():
        with pytest.raises(ValidationFailed) as raised:
            services.email_verification_confirm(token=token)
        assert reason(raised) == verification.BAD_LINK, user_id
    assert not User.objects.filter(email_verified=True).exists()


def test_a_link_of_a_deleted_account_does_not_verify_a_new_account_with_the_same_address():
    old = register()
    token = verification.verification_token_make(old)
    services.user_delete(user_id=old.pk)
    new = register()

    with pytest.raises(ValidationFailed):
        services.email_verification_confirm(token=token)

    assert not verified(new)


def test_a_password_reset_by_mailed_link_verifies_the_address():
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = register()
    uid = urlsafe_base64_encode(force_bytes(user.pk))

    services.password_reset_confirm(uid=uid, token=default_token_generator.make_token(user),
                                    new_password="Another-Stable-Staple-7")

    assert verified(user)


# --- asking again -------------------------------------------------------------------------------------------------

def test_asking_again_mails_a_fresh_link_that_works():
    user = register()

    assert services.email_verification_resend(user_id=user.pk) is True

    services.email_verification_confirm(token=mailed_token())
    assert verified(user)


def test_asking_again_once_verified_sends_nothing():
    user = register()
    services.email_verification_confirm(token=verification.verification_token_make(user))

    assert services.email_verification_resend(user_id=user.pk) is False
    assert mail.outbox == []


def test_the_worker_sends_nothing_to_an_address_verified_meanwhile():
    user = register()
    services.email_verification_confirm(token=verification.verification_token_make(user))

    tasks.send_verification_mail.delay(user.pk)

    assert mail.outbox == []


@pytest.mark.parametrize("state", ["deleted", "inactive"])
def test_asking_again_for_an_account_gone_is_not_found(state):
    user = register()
    if state == "deleted":
        services.user_delete(user_id=user.pk)
    else:
        services.user_update(user_id=user.pk, changes={"is_active": False})

    with pytest.raises(NotFound):
        services.email_verification_resend(user_id=user.pk)


def test_asking_again_while_the_broker_is_down_is_service_unavailable(monkeypatch):
    user = register()

    def broker_down(*args, **kwargs):
        raise OperationalError("amqp://broker:5672 refused")

    monkeypatch.setattr(tasks.send_verification_mail, "delay", broker_down)

    with pytest.raises(ServiceUnavailable):
        services.email_verification_resend(user_id=user.pk)


def refuse_mail(*args, **kwargs):
    raise ConnectionRefusedError("smtp.example.com:587")


def test_without_a_broker_a_failing_mail_server_is_service_unavailable(monkeypatch):
    user = register()
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse_mail)

    with pytest.raises(ServiceUnavailable):
        services.email_verification_resend(user_id=user.pk)


def test_a_worker_retries_a_failing_mail_server_with_backoff(monkeypatch):
    # given a worker (not eager) whose mail server refuses
    user = register()
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse_mail)
    scheduled = []
    monkeypatch.setattr(tasks.send_verification_mail, "retry",
                        lambda **options: scheduled.append(options) or Retry())

    # when it runs the task for the third time
    tasks.send_verification_mail.push_request(retries=2, is_eager=False)
    try:
        with pytest.raises(Retry):
            tasks.send_verification_mail.run(user.pk)
    finally:
        tasks.send_verification_mail.pop_request()

    # then it asks to be run again later, within the bound
    assert scheduled[0]["countdown"] == 120
    assert scheduled[0]["max_retries"] == tasks.MAIL_MAX_RETRIES
    assert isinstance(scheduled[0]["exc"], ConnectionRefusedError)
