"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings).

A worker runs its role's tasks and, through the event consumers bootstep (``ecommerce.events.worker``), the event
consumers its role owns, each on its own durable queue."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, worker_init

from ecommerce.events.worker import EventConsumersStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ecommerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(EventConsumersStep)


@setup_logging.connect
def _log_like_django(**_: object) -> None:
    """Workers write the same JSON lines as the web processes (ecommerce/logging.py), not Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_init.connect
def _trace_tasks(**_: object) -> None:
    """Before the pool forks: the children inherit the instrumentation, and each restarts the span exporter."""
    from ecommerce.tracing import configure_tracing

    configure_tracing()
