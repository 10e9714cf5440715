"""Hold a consumer up from outside: another database session claims (consumer, event id) and does not commit.

The consumer's own insert of that row then waits on the unique index, exactly as it would behind a slow twin
delivery of the same event; with a short ``ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS`` every attempt fails (and is
retried, then dead-lettered), with a long one the consumer hangs mid-transaction (and can be killed there). Rolling
back lets it through. PostgreSQL only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tests.support.workers import test_database_url


@contextmanager
def consumer_held_up(consumer: str, event_id: uuid.UUID | str) -> Iterator[None]:
    with psycopg.connect(test_database_url()) as session:
        session.execute(
            "INSERT INTO events_processedevent (consumer, event_id, processed_at) VALUES (%s, %s, now())",
            [consumer, str(event_id)],
        )
        try:
            yield
        finally:
            session.rollback()


def sessions_waiting_on_a_lock() -> int:
    with psycopg.connect(test_database_url(), autocommit=True) as session:
        row = session.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0
