"""The in-process scheduler: periodic work and event delivery for a deployment without a broker (``make run``).

Without ``CELERY_BROKER_URL`` there is no beat and no worker, yet unpaid orders must still expire, stale
reservations be released, the stock digest go out and committed events reach their consumers. A serving process
(``config.wsgi``) therefore starts one daemon thread that runs the entries of ``CELERY_BEAT_SCHEDULE`` this process
is responsible for (all of them in the monolith, its own role's in a split deployment) on Celery's own schedules,
through the same task code a worker would run. The outbox relay additionally runs as soon as a transaction that
wrote an event commits (``outbox.record_event`` wakes the thread), so an e-mail does not wait for the next tick.

Only one process per database runs the jobs: the thread acts only while it holds the ``in-process-scheduler``
lease (a row in ``events_lease``, renewed every ten seconds and given up at exit), so several server processes, or a
server restarted by the autoreloader, never run a job twice at once; another process takes over within
``LEASE_SECONDS`` when the holder dies. Tests never start it (nothing in them imports ``config.wsgi``, and the test
settings turn it off).
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import maybe_schedule
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from ecommerce import deployment

logger = logging.getLogger(__name__)

LEASE_NAME = "in-process-scheduler"
LEASE_SECONDS = 30
# The holder renews well before its lease runs out; the others look for a vacant lease now and then.
RENEW_EVERY_SECONDS = 10.0
VACANCY_CHECK_SECONDS = 5.0
TICK_SECONDS = 1.0
RELAY_TASK = "ecommerce.events.tasks.relay_outbox"
# After the database failed (not migrated yet, restarting), wait longer before trying again.
FAILURE_PAUSE_SECONDS = 10.0

_wake = threading.Event()
_started: InProcessScheduler | None = None
_start_lock = threading.Lock()


def wake() -> None:
    """Ask the scheduler of this process, if it runs, to relay the outbox now."""
    _wake.set()


def lease_acquire(*, name: str, holder: str, seconds: int, now: datetime | None = None) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while someone else holds an unexpired one."""
    from ecommerce.events.models import Lease  # this module is imported where the outbox may not be installed

    now = now or timezone.now()
    expires_at = now + timedelta(seconds=seconds)
    if Lease.objects.filter(Q(holder=holder) | Q(expires_at__lt=now), name=name).update(
            holder=holder, expires_at=expires_at):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def lease_release(*, name: str, holder: str) -> None:
    from ecommerce.events.models import Lease

    Lease.objects.filter(name=name, holder=holder).delete()


@dataclass
class Job:
    name: str
    task: str
    schedule: Any
    last_run_at: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        if self.last_run_at is None:
            return True
        due, _ = self.schedule.is_due(self.last_run_at)
        return bool(due)


def jobs_for_this_process() -> list[Job]:
    """The beat entries this process runs. In a split deployment the settings route each entry to its role's queue
    (``config.roles``); this process takes those routed to its own default queue."""
    own_queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
    split = deployment.is_split()
    jobs = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        if split and entry.get("options", {}).get("queue") != own_queue:
            continue
        jobs.append(Job(name=name, task=entry["task"], schedule=maybe_schedule(entry["schedule"])))
    # The relay last: events the other jobs of a tick wrote (an expired order's cancellation) go out in that tick.
    return sorted(jobs, key=lambda job: job.task == RELAY_TASK)


class InProcessScheduler(threading.Thread):
    def __init__(self, jobs: list[Job]) -> None:
        super().__init__(name="in-process-scheduler", daemon=True)
        self.jobs = jobs
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self._holding = False
        self._next_lease_check = 0.0

    def holds_lease(self) -> bool:
        """Whether this thread may run the jobs now; asks the database only when its answer may have changed."""
        now = time.monotonic()
        if now >= self._next_lease_check:
            self._holding = lease_acquire(name=LEASE_NAME, holder=self.holder, seconds=LEASE_SECONDS)
            self._next_lease_check = now + (RENEW_EVERY_SECONDS if self._holding else VACANCY_CHECK_SECONDS)
        return self._holding

    def run(self) -> None:
        logger.info("in-process scheduler started (no broker): %s", ", ".join(job.name for job in self.jobs))
        while not self.stopping.is_set():
            pause = TICK_SECONDS
            woken = _wake.is_set()
            _wake.clear()
            try:
                if self.holds_lease():
                    self.run_due(relay_now=woken)
            except Exception:
                logger.warning("in-process scheduler tick failed; retrying in %ss", FAILURE_PAUSE_SECONDS,
                               exc_info=True)
                pause = FAILURE_PAUSE_SECONDS
                self._next_lease_check = 0.0  # whether it still holds the lease is unknown now
            finally:
                connections.close_all()  # this thread's own connections
            _wake.wait(pause)

    def run_due(self, *, relay_now: bool = False) -> None:
        now = timezone.now()
        for job in self.jobs:
            if job.is_due(now) or (relay_now and job.task == RELAY_TASK):
                job.last_run_at = now
                self._run(job)

    def _run(self, job: Job) -> None:
        started = time.monotonic()
        try:
            import_string(job.task)()  # the task's own code, in this thread (no tracing: no log line per tick)
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
            return
        logger.debug("scheduled job %s ran in %.3fs", job.name, time.monotonic() - started)

    def stop(self) -> None:
        self.stopping.set()
        _wake.set()
        try:
            lease_release(name=LEASE_NAME, holder=self.holder)
        except Exception:
            logger.debug("could not release the scheduler lease", exc_info=True)


def _has_database() -> bool:
    return any(connections[alias].settings_dict["ENGINE"] != "django.db.backends.dummy" for alias in connections)


def start_in_process_scheduler() -> InProcessScheduler | None:
    """Start this process's scheduler thread when the settings ask for one (no broker); idempotent."""
    global _started
    if not settings.ECOMMERCE_INPROCESS_SCHEDULER or not _has_database():
        return None
    if not apps.is_installed("ecommerce.events"):  # the gateway: no outbox, no jobs of its own
        return None
    with _start_lock:
        if _started is None or not _started.is_alive():
            _started = InProcessScheduler(jobs_for_this_process())
            _started.start()
            atexit.register(_started.stop)
    return _started
