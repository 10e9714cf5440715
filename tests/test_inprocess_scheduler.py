"""The in-process scheduler across contexts: each split role runs only its own periodic jobs, and in the monolith a
tick expires unpaid orders and delivers the events that produced, in the same tick."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.orders.models import Order
from config.roles import split_settings
from ecommerce.contracts.users import UserDTO
from ecommerce.events import scheduler
from ecommerce.events.models import OutboxEvent
from tests.support.shop import place_order


def test_a_split_role_runs_only_the_jobs_routed_to_it(settings: Any) -> None:
    role_settings = split_settings("products", {
        "INSTALLED_APPS": settings.INSTALLED_APPS, "MIDDLEWARE": settings.MIDDLEWARE,
        "CELERY_BEAT_SCHEDULE": settings.CELERY_BEAT_SCHEDULE, "ECOMMERCE_BROKER_NAMESPACE": "",
    })
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "products"
    settings.CELERY_BEAT_SCHEDULE = role_settings["CELERY_BEAT_SCHEDULE"]
    settings.CELERY_TASK_DEFAULT_QUEUE = role_settings["CELERY_TASK_DEFAULT_QUEUE"]

    tasks = {job.task for job in scheduler.jobs_for_this_process()}

    assert tasks == {"apps.products.tasks.release_stale_reservations", "ecommerce.events.tasks.relay_outbox",
                     "ecommerce.events.tasks.purge_old_events"}


@pytest.mark.django_db(transaction=True)
def test_due_jobs_expire_unpaid_orders_and_deliver_their_events(
        settings: Any, client_for: Callable[..., Any], make_user: Callable[..., UserDTO]) -> None:
    settings.CELERY_BROKER_URL = ""
    customer = make_user(email="ann@example.com")
    order = place_order(client_for, customer)
    Order.objects.filter(pk=order["id"]).update(created_at=timezone.now() - timedelta(hours=2))
    jobs = scheduler.InProcessScheduler(scheduler.jobs_for_this_process())

    jobs.run_due()

    assert Order.objects.get(pk=order["id"]).status == "canceled"
    assert sorted(m.subject for m in mail.outbox) == [f"We received your order {order['number']}",
                                                       f"Your order {order['number']} was canceled"]
    assert "not paid in time" in mail.outbox[-1].body
    assert not OutboxEvent.objects.filter(published_at=None).exists()
    jobs.run_due()  # nothing is due again yet
    assert len(mail.outbox) == 2
