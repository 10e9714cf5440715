"""``make run`` without a broker: one server, nothing else configured (SQLite, in-memory cache, console e-mail).

The serving processes deliver committed events to the consumers themselves and run the periodic jobs; exactly one of
them does at a time (the scheduler lease), so a customer's order e-mail is printed once even with two gunicorn
workers, and readiness reports the broker as not configured and the outbox drained."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.deployment import MONOLITH, Deployment, free_port

pytestmark = pytest.mark.e2e

PASSWORD = "Sturdy-Passphrase-2026!"


@pytest.fixture(scope="module")
def brokerless_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("brokerless")
    env = {
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}", "REDIS_URL": "", "CELERY_BROKER_URL": "",
        "EMAIL_URL": "consolemail://", "DJANGO_LOG_LEVEL": "WARNING",
        "ECOMMERCE_THROTTLE_ANON": "100000/min", "ECOMMERCE_THROTTLE_USER": "100000/min",
    }
    shop = Deployment(roles=(MONOLITH,), ports={MONOLITH: free_port()}, databases={}, env=env, workers=2,
                      threads=2, log_dir=home)
    shop.manage(MONOLITH, "migrate", "--noinput", quiet=True)
    shop.seed(products=5, password=PASSWORD)
    try:
        shop.start_all(timeout=90)
        yield shop
    finally:
        shop.stop_all()


def _log(shop: Deployment) -> str:
    return Path(shop.processes[MONOLITH].log_path or "").read_text(errors="replace")


def test_an_order_is_mailed_once_without_a_broker(brokerless_shop: Deployment) -> None:
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=f"{brokerless_shop.url()}/api/v1", timeout=30) as api:
        assert api.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Ann"}).status_code == 201
        token = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access"]
        api.headers["Authorization"] = f"Bearer {token}"
        address = api.post("/users/me/addresses", json={
            "full_name": "Ann Example", "street": "1 Main St", "city": "Springfield", "zip_code": "62701",
            "country": "US", "is_default": True}).json()
        product = api.get("/products", params={"in_stock": "true"}).json()["results"][0]
        assert api.post("/cart/items", json={"product_id": product["id"], "quantity": 1}).status_code == 201
        placed = api.post("/orders", json={"address_id": address["id"]}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    subject = f"Subject: We received your order {order['number']}"

    deadline = time.monotonic() + 20
    while subject not in _log(brokerless_shop):
        assert time.monotonic() < deadline, _log(brokerless_shop)[-3000:]
        time.sleep(0.2)
    time.sleep(2)  # time enough for a second delivery, were there going to be one

    log = _log(brokerless_shop)
    assert log.count(subject) == 1
    printed = log[log.index(subject):]
    assert f"To: {email}" in log
    assert f"Total:    {order['total']} USD" in printed
    assert product["name"] in printed
    ready = httpx.get(f"{brokerless_shop.url()}/readyz", timeout=10).json()
    assert ready["background"]["broker"] == "not_configured"
    assert ready["background"]["outbox"]["pending"] == 0
