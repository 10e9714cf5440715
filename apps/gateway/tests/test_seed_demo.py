"""The demo seed: idempotent, and a lost demo password is replaced, never needed back."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from ecommerce.contracts.users import users_service
from ecommerce.errors import InvalidCredentials

pytestmark = pytest.mark.django_db

DEMO_EMAILS = ("customer@example.com", "catalog@example.com", "orders@example.com")
CHOSEN = "Chosen-Demo-Passw0rd-1"
ANOTHER = "Another-Demo-Passw0rd-2"


def seed(*arguments: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--products", "2", "--no-orders", *arguments, stdout=out)
    return out.getvalue()


def signs_in(email: str, password: str) -> bool:
    try:
        users_service.auth_login(email=email, password=password)
    except InvalidCredentials:
        return False
    return True


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"User (\S+@example\.com) \(\w+\) .*?password(?: reset to)?: (\S+)", output))


def test_a_second_seed_leaves_existing_passwords_alone(rpc_mode) -> None:
    seed("--password", CHOSEN)

    output = seed("--password", ANOTHER)

    assert all(signs_in(email, CHOSEN) for email in DEMO_EMAILS)
    assert not any(signs_in(email, ANOTHER) for email in DEMO_EMAILS)
    assert output.count("password unchanged (--reset-passwords sets one)") == len(DEMO_EMAILS)


def test_reset_passwords_sets_the_chosen_password_and_is_idempotent(rpc_mode) -> None:
    seed()  # random passwords, printed once and then lost

    seed("--reset-passwords", "--password", CHOSEN)
    again = seed("--reset-passwords", "--password", CHOSEN)

    assert all(signs_in(email, CHOSEN) for email in DEMO_EMAILS)
    assert printed_passwords(again) == dict.fromkeys(DEMO_EMAILS, CHOSEN)


def test_reset_passwords_without_a_choice_prints_new_random_ones_that_work(rpc_mode) -> None:
    seed("--password", CHOSEN)

    output = seed("--reset-passwords")

    fresh = printed_passwords(output)
    assert set(fresh) == set(DEMO_EMAILS)
    assert all(signs_in(email, password) for email, password in fresh.items())
    assert not any(signs_in(email, CHOSEN) for email in DEMO_EMAILS)


def test_demo_password_from_the_environment_is_the_default(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", CHOSEN)

    output = seed()

    assert printed_passwords(output) == dict.fromkeys(DEMO_EMAILS, CHOSEN)
    assert all(signs_in(email, CHOSEN) for email in DEMO_EMAILS)
