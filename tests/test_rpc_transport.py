"""The HTTP transport under concurrency: calls to one role run side by side, and a frozen role makes every caller
answer within the RPC budget (plus scheduling slack) with a 503/504-class error, never a queue of timeouts."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecommerce.errors import ServiceTimeout, ServiceUnavailable
from ecommerce.rpc.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpen
from ecommerce.rpc.transport import HttpTransport

CALLERS = 8


@contextlib.contextmanager
def slow_role(delay: float) -> Iterator[str]:
    """A role on loopback that answers every call after ``delay`` seconds."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay)
            body = json.dumps({"result": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def frozen_role() -> Iterator[str]:
    """A role whose process is stopped: the kernel still completes connections, nobody ever answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def timed_calls(transport: HttpTransport, count: int) -> list[tuple[float, object]]:
    """``count`` concurrent idempotent calls; each one's duration and its result or error."""

    def one(_: int) -> tuple[float, object]:
        started = time.monotonic()
        try:
            outcome: object = transport.call(service="quotes", method="quote_get", body=b"{}", idempotent=True)
        except Exception as error:  # noqa: BLE001 - the test inspects whatever came out
            outcome = error
        return time.monotonic() - started, outcome

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_calls_to_one_role_run_concurrently(settings) -> None:
    # given a role that takes 0.4 s per call
    settings.ECOMMERCE_RPC_TIMEOUT_SECONDS = 5.0
    with slow_role(0.4) as url:
        transport = HttpTransport("quotes", url)
        # when eight callers call it at once
        started = time.monotonic()
        results = timed_calls(transport, CALLERS)
        elapsed = time.monotonic() - started

    # then every call succeeded, and together they took far less than one after the other (8 x 0.4 s = 3.2 s)
    assert [outcome for _, outcome in results] == [(200, {"result": "ok"})] * CALLERS
    assert elapsed < 1.6


def test_a_frozen_role_fails_every_caller_within_the_budget_and_then_fast(settings) -> None:
    # given a role that never answers and a one-second budget
    settings.ECOMMERCE_RPC_TIMEOUT_SECONDS = 1.0
    with frozen_role() as url:
        transport = HttpTransport("quotes", url)
        # when eight callers call it at once
        results = timed_calls(transport, CALLERS)
        # then each one got a timeout within the budget plus a second of slack, none waited for another's timeout
        assert all(isinstance(outcome, ServiceTimeout) for _, outcome in results), results
        assert max(duration for duration, _ in results) < 1.0 + 1.0

        # and the breaker is open now: the next callers are refused at once instead of waiting again
        assert transport.breaker.state == OPEN
        later = timed_calls(transport, CALLERS)
    assert all(isinstance(outcome, ServiceUnavailable) and not isinstance(outcome, ServiceTimeout)
               for _, outcome in later), later
    assert max(duration for duration, _ in later) < 0.5


def test_a_write_that_may_not_be_retried_still_ends_within_the_budget(settings) -> None:
    settings.ECOMMERCE_RPC_TIMEOUT_SECONDS = 1.0
    with frozen_role() as url:
        transport = HttpTransport("quotes", url)
        started = time.monotonic()
        with pytest.raises(ServiceTimeout):
            transport.call(service="quotes", method="quote_fields_set", body=b"{}", idempotent=False)
    assert time.monotonic() - started < 2.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker) -> None:
    with contextlib.suppress(OSError), breaker.guard(lambda error: isinstance(error, OSError)):
        raise OSError("down")


def test_the_breaker_opens_after_repeated_failures_and_lets_one_trial_through_when_half_open() -> None:
    # given a breaker that opens after three failures in a row for ten seconds
    clock = FakeClock()
    breaker = CircuitBreaker(fail_max=3, reset_timeout=10, clock=clock)
    for _ in range(3):
        fail(breaker)
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpen), breaker.guard(lambda error: True):
        pytest.fail("an open circuit must not run the call")

    # when the reset timeout has passed, one trial runs while a second caller is refused
    clock.now = 10.0
    assert breaker.state == HALF_OPEN
    with breaker.guard(lambda error: True), pytest.raises(CircuitOpen), breaker.guard(lambda error: True):
        pytest.fail("only one trial at a time")
    # then the trial's success closes the circuit for everyone
    assert breaker.state == CLOSED


def test_a_failed_trial_opens_the_circuit_again_and_errors_that_do_not_count_leave_it_closed() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(fail_max=2, reset_timeout=5, clock=clock)
    fail(breaker)
    fail(breaker)
    clock.now = 5.0
    fail(breaker)  # the trial
    assert breaker.state == OPEN

    closed = CircuitBreaker(fail_max=1, reset_timeout=5, clock=clock)
    with contextlib.suppress(ValueError), closed.guard(lambda error: isinstance(error, OSError)):
        raise ValueError("the target answered; the caller did not like the answer")
    assert closed.state == CLOSED
