"""Refresh tokens are single-use even under concurrency: of two refreshes racing with one token, exactly one wins.
Needs PostgreSQL's row locks (SQLite serialises every writer anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.users import services
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
