"""The in-process scheduler of a deployment without a broker: one lease holder per database runs the periodic jobs
(unpaid orders expire, events are delivered) on their schedules, and a committed event wakes it at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from ecommerce.contracts.users import UserDTO
from ecommerce.events import scheduler
from ecommerce.events.models import Lease
from ecommerce.events.outbox import record_event
from tests.support.events import order_data


@pytest.mark.django_db
def test_one_holder_at_a_time_until_its_lease_expires() -> None:
    now = timezone.now()

    assert scheduler.lease_acquire(name="jobs", holder="a", seconds=30, now=now)
    assert not scheduler.lease_acquire(name="jobs", holder="b", seconds=30, now=now + timedelta(seconds=10))
    assert scheduler.lease_acquire(name="jobs", holder="a", seconds=30, now=now + timedelta(seconds=20))
    assert not scheduler.lease_acquire(name="jobs", holder="b", seconds=30, now=now + timedelta(seconds=45))
    assert scheduler.lease_acquire(name="jobs", holder="b", seconds=30, now=now + timedelta(seconds=51))
    assert Lease.objects.get(name="jobs").holder == "b"

    scheduler.lease_release(name="jobs", holder="a")
    assert Lease.objects.filter(name="jobs").exists()
    scheduler.lease_release(name="jobs", holder="b")
    assert not Lease.objects.filter(name="jobs").exists()


def test_the_monolith_runs_every_periodic_job(settings: Any) -> None:
    names = {job.name for job in scheduler.jobs_for_this_process()}

    assert names == set(settings.CELERY_BEAT_SCHEDULE)
    assert {"orders-expire-unpaid", "events-relay-outbox", "users-stock-low-digest",
            "products-release-stale-reservations"} <= names


@pytest.mark.django_db(transaction=True)
def test_the_thread_delivers_a_committed_event_at_once(settings: Any, make_user: Callable[..., UserDTO]) -> None:
    settings.CELERY_BROKER_URL = ""
    settings.ECOMMERCE_INPROCESS_SCHEDULER = True
    customer = make_user(email="ann@example.com")
    thread = scheduler.start_in_process_scheduler()
    assert thread is not None
    try:
        assert scheduler.start_in_process_scheduler() is thread  # one per process
        deadline = time.monotonic() + 10
        while not Lease.objects.filter(holder=thread.holder).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # let the first round of jobs pass, so that only the wake-up can deliver what follows
        with transaction.atomic():
            record_event("order.paid", order_data(user_id=customer.id, number="ORD-WAKE"))

        deadline = time.monotonic() + 3  # well before the relay's own five-second schedule comes round
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m.subject for m in mail.outbox] == ["Payment received for order ORD-WAKE"]
    finally:
        thread.stop()
        thread.join(timeout=10)
        scheduler._started = None
    assert not thread.is_alive()
    assert not Lease.objects.exists()
