"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings).

A worker runs its role's tasks and, through the event consumers bootstep (``ecommerce.events.worker``), the event
consumers its role owns, each on its own durable queue."""

import os

from celery import Celery

from ecommerce.events.worker import EventConsumersStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ecommerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(EventConsumersStep)
