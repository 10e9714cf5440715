"""A role instance stopped in the middle of traffic (SIGTERM, as Kubernetes stops a pod) fails no request through
the gateway.

The set-up stands in for a Service in front of two instances of the products role: a readiness-aware balancer
(tests/support/balancer.py) and a gateway of this test's own whose products address is the balancer. Why nothing
fails is by design, not by timing luck: the stopped instance drains (readiness 503, so the balancer sends new
connections to the other instance; every answer closes its connection, so the gateway reconnects through the
balancer), the gateway drops idle connections sooner than the drain ends, and only then does gunicorn stop
accepting and finish what is in flight. Reads and writes both run throughout."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ecommerce.deployment import DOMAIN_ROLES, split_environment
from scripts.deployment import Deployment, free_port
from tests.e2e.conftest import Shop
from tests.support.balancer import ReadinessBalancer

pytestmark = pytest.mark.e2e

DRAIN_SECONDS = 3
TRAFFIC_THREADS = 4
BEFORE_STOP_SECONDS = 3.0
AFTER_STOP_SECONDS = DRAIN_SECONDS + 4.0


class _Instances:
    """Processes this test adds to the split deployment, each on a port of its own; all stopped afterwards."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.names: list[str] = []

    def start(self, name: str, role: str, env: dict[str, str]) -> str:
        port = free_port(taken=self.deployment.ports.values())
        self.deployment.ports[name] = port
        self.deployment.spawn(name, self.deployment.gunicorn_command(role, port=port), env)
        self.names.append(name)
        return name

    def stop_all(self) -> None:
        for name in self.names:
            self.deployment.stop(name)
            self.deployment.ports.pop(name, None)


@pytest.fixture
def instances(split_shop: Shop) -> Iterator[_Instances]:
    assert split_shop.deployment is not None
    started = _Instances(split_shop.deployment)
    yield started
    started.stop_all()


def _traffic(base_url: str, staff_token: str, product_id: int, stop: threading.Event,
             outcomes: list[tuple[str, Any]]) -> None:
    """Catalog reads and product creations (a write no one may retry blindly) until told to stop."""
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=30.0) as anonymous, \
            httpx.Client(base_url=f"{base_url}/api/v1", timeout=30.0,
                         headers={"Authorization": f"Bearer {staff_token}"}) as staff:
        turn = 0
        while not stop.is_set():
            turn += 1
            try:
                if turn % 4 == 0:
                    sku = f"DRAIN-{uuid.uuid4().hex[:10].upper()}"
                    response = staff.post("/products", json={"sku": sku, "name": f"Drain {sku}", "price": "3.00",
                                                             "stock": 1})
                    outcomes.append(("write", response.status_code))
                elif turn % 2 == 0:
                    outcomes.append(("list", anonymous.get("/products", params={"search": "E2E"}).status_code))
                else:
                    outcomes.append(("read", anonymous.get(f"/products/{product_id}").status_code))
            except httpx.HTTPError as error:
                outcomes.append(("error", repr(error)))


def test_a_products_instance_stopped_mid_traffic_fails_no_request(split_shop: Shop, instances: _Instances) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    products_env = {**deployment.role_env("products"), "GUNICORN_DRAIN_SECONDS": str(DRAIN_SECONDS)}
    first = instances.start("products-a", "products", products_env)
    second = instances.start("products-b", "products", products_env)
    balancer = ReadinessBalancer([deployment.ports[first], deployment.ports[second]])
    urls = {**{role: deployment.url(role) for role in DOMAIN_ROLES}, "products": balancer.url}
    gateway_env = {**deployment.role_env("gateway"), **split_environment(role="gateway", urls=urls),
                   # Every catalog read reaches the products role, none is answered from the gateway's cache.
                   "ECOMMERCE_CATALOG_CACHE_SECONDS": "0"}
    gateway = instances.start("gateway-drain", "gateway", gateway_env)
    try:
        for name in (first, second, gateway):
            deployment.wait_ready(name, timeout=60)
        staff_token = split_shop.staff_token("catalog@example.com")
        with httpx.Client(base_url=f"{deployment.url(gateway)}/api/v1",
                          headers={"Authorization": f"Bearer {staff_token}"}) as staff:
            created = staff.post("/products", json={"sku": f"DRAIN-{uuid.uuid4().hex[:8]}", "name": "Drain probe",
                                                    "price": "5.00", "stock": 5})
        assert created.status_code == 201, created.text
        stop = threading.Event()
        outcomes: list[tuple[str, Any]] = []
        threads = [threading.Thread(target=_traffic, args=(deployment.url(gateway), staff_token,
                                                           created.json()["id"], stop, outcomes))
                   for _ in range(TRAFFIC_THREADS)]
        for thread in threads:
            thread.start()
        time.sleep(BEFORE_STOP_SECONDS)
        served_by_first_before = balancer.connections[deployment.ports[first]]
        answered_before = len(outcomes)

        deployment.signal(first, signal.SIGTERM)
        time.sleep(0.5)
        draining = httpx.get(f"{deployment.url(first)}/readyz", timeout=5)
        time.sleep(AFTER_STOP_SECONDS - 0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        exit_code = deployment.processes[first].popen.wait(timeout=20)
    finally:
        balancer.close()

    failures = [outcome for outcome in outcomes if outcome[1] not in (200, 201)]
    assert failures == [], f"{len(failures)} of {len(outcomes)} requests failed: {failures[:10]}"
    assert served_by_first_before > 0, "the stopped instance took no traffic before it was stopped"
    assert answered_before > 0
    assert len(outcomes) - answered_before > 0, "no traffic ran while the instance was stopping"
    assert {kind for kind, _ in outcomes} >= {"read", "list", "write"}
    # Stopping first took the instance out of rotation, then it exited cleanly within gunicorn's graceful timeout.
    assert draining.status_code == 503
    assert draining.json()["checks"]["shutdown"] == "shutting_down"
    assert exit_code == 0
    assert balancer.connections[deployment.ports[second]] > 0
