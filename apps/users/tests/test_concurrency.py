"""Refresh tokens are single-use even under concurrency: of two refreshes racing with one token, exactly one wins, and
the losers are not taken for a theft; a logout racing them neither deadlocks nor leaves the family alive. Needs
PostgreSQL's row locks (SQLite serialises every writer anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.users import services
from apps.users.models import RefreshTokenFamily
from apps.users.services import sessions
from ecommerce.errors import InvalidToken

PASSWORD = "Correct-Horse-Battery-9"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the migrated role groups
def test_concurrent_refreshes_with_one_token_cannot_both_succeed():
    services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    racers = 4
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race() -> None:
        try:
            barrier.wait()
            try:
                services.auth_refresh(refresh=issued.refresh)
                outcome = "refreshed"
            except InvalidToken:
                outcome = "refused"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refreshed"] + ["refused"] * (racers - 1)


def race(racers: int, attempt) -> list[str]:
    """Runs ``attempt`` in ``racers`` threads released at once; returns what each reported."""
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcome = attempt(index)
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_refreshes_with_one_token_are_not_taken_for_a_theft():
    # given one sign-in whose client refreshes from four tabs at the same moment
    services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    pairs = []

    def refresh(_: int) -> str:
        try:
            pairs.append(services.auth_refresh(refresh=issued.refresh))
            return "refreshed"
        except InvalidToken as refused:
            return refused.detail

    # when they race
    outcomes = race(4, refresh)

    # then one wins, the others are told the token was used, and the sign-in lives on with the winner's token
    assert sorted(outcomes) == sorted(["refreshed"] + [sessions.USED] * 3)
    assert not RefreshTokenFamily.objects.filter(ended_at__isnull=False).exists()
    assert services.auth_refresh(refresh=pairs[0].refresh).access


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_logout_racing_refreshes_of_its_token_ends_the_family_without_deadlock():
    user = services.user_register(email="ada@example.com", password=PASSWORD, name="Ada")
    _, issued = services.auth_login(email="ada@example.com", password=PASSWORD)
    pairs = []

    def logout_or_refresh(index: int) -> str:
        if index == 0:
            services.auth_logout(user_id=user.pk, refresh=issued.refresh)
            return "logged out"
        try:
            pairs.append(services.auth_refresh(refresh=issued.refresh))
            return "refreshed"
        except InvalidToken:
            return "refused"

    outcomes = race(4, logout_or_refresh)

    assert len(outcomes) == 4  # nobody hung on a lock
    assert "logged out" in outcomes
    assert outcomes.count("refreshed") <= 1
    assert RefreshTokenFamily.objects.get().end_reason == "logout"
    for pair in pairs:  # a refresh that won before the logout holds a token of the family, which has ended
        with pytest.raises(InvalidToken):
            services.auth_refresh(refresh=pair.refresh)
