"""A circuit breaker that never holds its lock while a call runs.

Rule guarded here: calls to one role run concurrently. The lock only guards the breaker's own state (a few
assignments), so one slow or frozen call cannot queue every other call to the same role behind it; pybreaker's
``CircuitBreaker.call`` holds its lock for the whole wrapped call, which made a gateway process send one request at a
time to each role and stack timeouts end to end.

States: *closed* lets every call through and counts consecutive failures; after ``fail_max`` of them it *opens* and
refuses calls at once for ``reset_timeout`` seconds; then it is *half-open*: exactly one trial call goes through
(the others are refused as if open) and its outcome closes or re-opens the circuit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitOpen(Exception):
    """The target failed repeatedly and is being left alone for a while."""


class CircuitBreaker:
    def __init__(self, *, fail_max: int, reset_timeout: float, name: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[bool], None] | None = None) -> None:
        """``on_change(is_open)`` is told when the circuit opens and when it closes again (for metrics); it is
        called outside the lock."""
        self.name = name
        self._on_change = on_change
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at < self.reset_timeout:
            return OPEN
        return HALF_OPEN

    def _admit(self) -> bool:
        """Whether a call may go out now; True means it is the half-open trial."""
        with self._lock:
            state = self._state_locked()
            if state == CLOSED:
                return False
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            raise CircuitOpen(f"circuit {self.name} is open")

    def _record(self, *, failed: bool, trial: bool) -> None:
        with self._lock:
            was_open = self._opened_at is not None
            if trial:
                self._trial_running = False
            if not failed:
                self._failures = 0
                self._opened_at = None
            else:
                self._failures += 1
                # A failed trial re-opens at once; a closed circuit opens after fail_max failures in a row.
                if trial or self._failures >= self.fail_max:
                    self._opened_at = self._clock()
            is_open = self._opened_at is not None
        if is_open != was_open and self._on_change is not None:
            self._on_change(is_open)

    @contextmanager
    def guard(self, counts_as_failure: Callable[[BaseException], bool]) -> Iterator[None]:
        """Run the block as one call through the breaker. Raises ``CircuitOpen`` before running it when the circuit
        refuses calls; an exception for which ``counts_as_failure`` is true counts against the target."""
        trial = self._admit()
        try:
            yield
        except BaseException as error:
            self._record(failed=counts_as_failure(error), trial=trial)
            raise
        self._record(failed=False, trial=trial)

    def reset(self) -> None:
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._trial_running = False
        if was_open and self._on_change is not None:
            self._on_change(False)
