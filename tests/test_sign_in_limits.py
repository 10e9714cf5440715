"""Sign-in limits: counted before the password is checked, per (account, client) first, then per client, with a
per-account ceiling far above what a person types; shared by the API's login and the Django admin; cleared for an
account by a password reset. Reset e-mails are limited per client and per account, behind an answer that never
changes."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from apps.gateway.tests.problems import assert_problem
from apps.users import tasks
from apps.users.backends import EmailBackend
from conftest import DEFAULT_PASSWORD
from ecommerce import auth_limits
from ecommerce.roles import Role
from tests.environment import service_missing

NEW_PASSWORD = "A-Brand-New-Passphrase-31"


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def from_ip(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def admin_sign_in(client: Client, email: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password, "next": "/admin/"})


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def assert_locked_page(answer, locked: str) -> None:
    """The admin's own HTML page, saying what is locked and for about how long."""
    assert answer.status_code == 429
    assert answer["Content-Type"].startswith("text/html")
    page = answer.content.decode()
    assert "Shop admin" in page
    assert "Sign-in locked" in page
    assert f"Too many failed sign-ins: {locked}." in page
    assert re.search(r"Try again in (less than a minute|about a minute|about \d+ minutes)", page)


# --- per account and client, per client, and the ceiling ---------------------------------------------------------
@pytest.mark.django_db
def test_guesses_from_many_clients_reach_the_per_account_ceiling(make_user, settings) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = "4/15min"
    owner = make_user(email="ada@example.com")

    for index in range(4):
        assert_problem(login(from_ip(f"10.0.0.{index}"), owner.email, "wrong"), 401, "invalid_credentials")
    ceiling = login(from_ip("10.0.0.99"), owner.email)

    assert_problem(ceiling, 429, "throttled")


@pytest.mark.django_db
def test_a_strangers_refused_guesses_never_use_up_the_owners_ceiling(make_user, settings) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "2/15min"
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = "5/15min"
    owner = make_user(email="ada@example.com")
    stranger = from_ip("203.0.113.7")

    answers = [login(stranger, owner.email, "wrong").status_code for _ in range(12)]

    assert answers == [401, 401] + [429] * 10
    assert login(from_ip("198.51.100.1"), owner.email).status_code == 200  # only 2 failures reached the ceiling


@pytest.mark.django_db
def test_a_password_reset_lets_the_locked_out_owner_in_again(make_user, settings, api_client) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "2/15min"
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = "2/15min"
    owner = make_user(email="ada@example.com")
    for _ in range(2):
        login(api_client, owner.email, "wrong")
    assert_problem(login(api_client, owner.email), 429, "throttled")

    assert api_client.post("/api/v1/auth/password/reset", {"email": owner.email}, format="json").status_code == 202
    uid, token = re.search(r"/password-reset/([^/\s]+)/([^/\s]+)", mail.outbox[-1].body).groups()
    confirmed = api_client.post("/api/v1/auth/password/reset/confirm",
                                {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json")

    assert confirmed.status_code == 204, confirmed.content
    assert login(api_client, owner.email, NEW_PASSWORD).status_code == 200


@pytest.mark.django_db
def test_while_the_cache_is_down_logins_are_refused_with_503_not_let_through(make_user, monkeypatch,
                                                                             api_client) -> None:
    owner = make_user(email="ada@example.com")

    class BrokenCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        add = incr = decr = get

    monkeypatch.setattr(auth_limits, "cache", BrokenCache())

    assert_problem(login(api_client, owner.email), 503, "service_unavailable")


# --- the admin shares the API's limits ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_fifteen_wrong_admin_passwords_then_the_right_one_stay_locked_out(make_user, settings) -> None:
    staff = make_user(Role.ADMIN, email="root@example.com")
    client = Client()

    wrong = [admin_sign_in(client, staff.email, "not-the-password") for _ in range(15)]
    right = admin_sign_in(client, staff.email, DEFAULT_PASSWORD)

    limit = 10  # ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP, the API's own default
    assert f"{limit}/15min" == settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP
    assert [answer.status_code for answer in wrong] == [200] * limit + [429] * (15 - limit)
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert_locked_page(right, "this account is locked for sign-ins from your network")
    assert not signed_in(client)
    elsewhere = Client(REMOTE_ADDR="198.51.100.1")
    assert admin_sign_in(elsewhere, staff.email, DEFAULT_PASSWORD).status_code == 302  # the owner, elsewhere
    assert signed_in(elsewhere)


@pytest.mark.django_db
def test_api_and_admin_failures_count_in_the_same_counters(make_user, settings) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "4/15min"
    staff = make_user(Role.ADMIN, email="root@example.com")
    api, admin = APIClient(), Client()

    for _ in range(2):
        assert_problem(login(api, staff.email, "wrong"), 401, "invalid_credentials")
    for _ in range(2):
        assert admin_sign_in(admin, staff.email, "wrong").status_code == 200

    assert admin_sign_in(admin, staff.email, DEFAULT_PASSWORD).status_code == 429
    assert_problem(login(api, staff.email), 429, "throttled")


@pytest.mark.django_db
@pytest.mark.parametrize("locked_through", ["api", "admin"])
def test_a_lock_reached_on_one_door_closes_the_other(make_user, settings, locked_through) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "3/15min"
    staff = make_user(Role.ORDER_STAFF, email="orders@example.com")
    api, admin = APIClient(), Client()

    for _ in range(3):
        if locked_through == "api":
            assert_problem(login(api, staff.email, "wrong"), 401, "invalid_credentials")
        else:
            assert admin_sign_in(admin, staff.email, "wrong").status_code == 200

    assert admin_sign_in(admin, staff.email, DEFAULT_PASSWORD).status_code == 429
    assert not signed_in(admin)
    assert_problem(login(api, staff.email), 429, "throttled")


@pytest.mark.django_db
def test_a_successful_admin_sign_in_is_not_counted(make_user, settings) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "2/15min"
    staff = make_user(Role.ADMIN, email="root@example.com")

    for _ in range(4):
        client = Client()
        assert admin_sign_in(client, staff.email, DEFAULT_PASSWORD).status_code == 302
        assert signed_in(client)
    assert admin_sign_in(Client(), staff.email, "wrong").status_code == 200


@pytest.mark.django_db
def test_the_admins_locked_page_says_whether_the_client_or_the_account_is_locked(make_user, settings) -> None:
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP = "3/15min"
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = "4/15min"
    staff = make_user(Role.ADMIN, email="root@example.com")
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for index in range(3):
        admin_sign_in(guesser, f"someone{index}@example.com", "wrong")
    for index in range(4):
        admin_sign_in(Client(REMOTE_ADDR=f"10.0.0.{index}"), staff.email, "wrong")

    assert_locked_page(admin_sign_in(guesser, staff.email, DEFAULT_PASSWORD), "sign-ins from your network are locked")
    assert_locked_page(admin_sign_in(Client(REMOTE_ADDR="198.51.100.1"), staff.email, DEFAULT_PASSWORD),
                       "this account is locked for sign-ins from everywhere")


@pytest.mark.parametrize(("seconds", "said"), [(1, "less than a minute"), (59, "less than a minute"),
                                               (60, "about a minute"), (89, "about a minute"),
                                               (600, "about 10 minutes"), (899, "about 15 minutes")])
def test_the_wait_is_said_roughly(seconds, said) -> None:
    from ecommerce.admin_sign_in import roughly

    assert roughly(seconds) == said


# --- the count is taken before the check, atomically --------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_forty_parallel_wrong_passwords_get_at_most_the_limit_of_checks(live_server, make_user, settings,
                                                                        monkeypatch) -> None:
    if not hasattr(cache, "delete_pattern"):  # django-redis: the cache every process of a deployment shares
        service_missing("this test needs Redis: set REDIS_URL=redis://...")
    settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = "10/15min"
    owner = make_user(email="ada@example.com")
    checks: list[float] = []
    lock = threading.Lock()
    real_authenticate = EmailBackend.authenticate

    def slow_authenticate(self, request, *args, **kwargs):
        with lock:
            checks.append(time.monotonic())
        time.sleep(0.3)  # every request is in flight at once: a check-then-count limiter lets them all through
        return real_authenticate(self, request, *args, **kwargs)

    monkeypatch.setattr(EmailBackend, "authenticate", slow_authenticate)
    start = threading.Barrier(40)

    def attempt(index: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            # Connect first, one after the other (the test server's accept queue is short), then all send at once.
            time.sleep(index * 0.02)
            assert client.get("/healthz").status_code == 200
            start.wait()
            return client.post("/api/v1/auth/login", json={"email": owner.email, "password": "wrong"}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(attempt, range(40)))

    assert len(checks) == 10
    assert sorted(statuses) == [401] * 10 + [429] * 30


# --- reset e-mails ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reset_mails_are_limited_per_account_and_the_answer_never_changes(make_user, settings, api_client) -> None:
    settings.ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT = "3/hour"
    owner = make_user(email="ada@example.com")

    answers = [api_client.post("/api/v1/auth/password/reset", {"email": owner.email}, format="json")
               for _ in range(15)]

    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.content for answer in answers}) == 1
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_reset_mails_are_limited_per_client(make_user, settings, api_client) -> None:
    settings.ECOMMERCE_THROTTLE_PASSWORD_RESET_IP = "4/hour"
    owners = [make_user(email=f"owner{index}@example.com") for index in range(6)]

    answers = [api_client.post("/api/v1/auth/password/reset", {"email": owner.email}, format="json")
               for owner in owners]
    elsewhere = from_ip("198.51.100.1").post("/api/v1/auth/password/reset", {"email": owners[5].email},
                                             format="json")

    assert {answer.status_code for answer in [*answers, elsewhere]} == {202}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [owner.email for owner in owners[:4]] + [owners[5].email])


@pytest.mark.django_db
def test_a_reset_request_does_the_same_work_for_a_known_and_an_unknown_address(make_user, monkeypatch, api_client,
                                                                               django_assert_num_queries) -> None:
    owner = make_user(email="ada@example.com")
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.send_password_reset_mail, "delay", lambda *args, **kwargs: queued.append(args))

    with django_assert_num_queries(0):  # nothing on the request path looks the account up
        known = api_client.post("/api/v1/auth/password/reset", {"email": owner.email}, format="json")
        unknown = api_client.post("/api/v1/auth/password/reset", {"email": "nobody@example.com"}, format="json")

    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert queued == [(owner.email,), ("nobody@example.com",)]
