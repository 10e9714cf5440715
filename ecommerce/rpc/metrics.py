"""What the operator watches of internal calls, per target role: how long they take, how they fail, and whether the
caller's circuit breaker has given up on the target.

``shop_rpc_client_seconds{target,method,outcome}`` (outcome ``ok``, ``error`` for a typed contract error answered by
the target, or the failure: ``timeout``, ``unavailable``, ``circuit_open``), ``shop_rpc_client_failures_total
{target,kind}`` and ``shop_rpc_circuit_open{target}`` (1 while the breaker refuses or probes the target; with several
gunicorn workers, 1 when any live worker's breaker is open)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RPC_SECONDS = Histogram("shop_rpc_client_seconds", "Internal contract calls, as the caller waited for them.",
                        ["target", "method", "outcome"],
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
RPC_FAILURES = Counter("shop_rpc_client_failures_total",
                       "Internal calls that got no usable answer (timeout, unavailable, circuit open).",
                       ["target", "kind"])
CIRCUIT_OPEN = Gauge("shop_rpc_circuit_open", "1 while the circuit breaker towards the target is open or half-open.",
                     ["target"], multiprocess_mode="livemax")
CIRCUIT_OPENED = Counter("shop_rpc_circuit_opened_total", "Times the circuit breaker towards the target opened.",
                         ["target"])


def circuit_state_changed(target: str, is_open: bool) -> None:
    if is_open:
        CIRCUIT_OPENED.labels(target).inc()
    CIRCUIT_OPEN.labels(target).set(1 if is_open else 0)
