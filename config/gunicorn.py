"""gunicorn settings of every role (``gunicorn -c python:config.gunicorn config.wsgi:application``).

Threads, not processes alone: a request spends much of its life waiting on PostgreSQL, Redis or another role, and
a gthread worker serves other requests meanwhile; keep-alive lets a proxy or client reuse its connection. The
figures that chose these defaults are in bench/results.md (``make bench``) and the README's performance section.
Every value can be changed from the environment (``GUNICORN_*``), and ``GUNICORN_CMD_ARGS`` still overrides all."""

import multiprocessing
import os

from config.gunicorn_hooks import (  # noqa: F401 - gunicorn finds its hooks by name in this module
    child_exit,
    on_exit,
    on_starting,
    post_worker_init,
    pre_request,
    prepare_metrics_directory,
)
from ecommerce.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# One process per core keeps every core busy despite the GIL, one more covers a worker stalled on a slow request.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Counted from SIGTERM: covers the drain (GUNICORN_DRAIN_SECONDS, config/gunicorn_hooks.py) and then the longest
# request in flight; Kubernetes' terminationGracePeriodSeconds (k8s/) is longer still.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# The listen queue absorbs bursts while every thread is busy, instead of refusing connections.
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# The application writes one JSON line per request with its route, caller and trace (ecommerce/middleware.py), so
# gunicorn's own access line is off unless asked for; its other lines take the application's JSON format.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "") or None
logconfig_dict = logging_config(level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
                                log_format=os.environ.get("DJANGO_LOG_FORMAT", "json"))
control_socket_disable = True

prepare_metrics_directory()
