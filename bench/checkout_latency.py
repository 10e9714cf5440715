"""Checkout latency over HTTP: how long ``POST /api/v1/orders`` takes, on one server or several compared side by side.

    .venv/bin/python bench/checkout_latency.py --base-url http://127.0.0.1:8000 [--base-url http://127.0.0.1:8001]

Against each server it registers a fresh customer with an address, then repeats: fill the cart with ``--lines``
products in stock (one unit each), check out with a fresh Idempotency-Key (the only request timed), cancel the order
(so stock and the open-order cap stay as they were). With several servers the rounds alternate between them, in a
different order each round, so a machine shared with other work slows every server alike. Needs a catalog with
products in stock (``manage.py seed_demo``) and throttles high enough for the request rate (``ECOMMERCE_THROTTLE_*``);
measure with ``DJANGO_DEBUG=0``. Nothing here is a pass/fail test."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx

PASSWORD = "Bench-Checkout-Passphrase-7"


@dataclass
class Shopper:
    base_url: str
    client: httpx.Client
    address_id: int
    product_ids: list[int]
    samples_ms: list[float] = field(default_factory=list)

    @classmethod
    def sign_up(cls, base_url: str, *, lines: int) -> Shopper:
        client = httpx.Client(base_url=f"{base_url.rstrip('/')}/api/v1", timeout=30)
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        _ok(client.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Bench Shopper"}))
        access = _ok(client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()["access"]
        client.headers["Authorization"] = f"Bearer {access}"
        address = _ok(client.post("/users/me/addresses", json={
            "full_name": "Bench Shopper", "street": "1 Timing Road", "city": "Springfield", "state": "IL",
            "zip_code": "62701", "country": "US", "phone": "+15550100"})).json()
        in_stock = _ok(client.get("/products", params={"in_stock": "true", "page_size": 100})).json()["results"]
        product_ids = [product["id"] for product in in_stock if product["stock"] >= 5][:lines]
        if len(product_ids) < lines:
            raise SystemExit(f"{base_url}: fewer than {lines} products in stock; seed the catalog first")
        return cls(base_url=base_url, client=client, address_id=address["id"], product_ids=product_ids)

    def checkout_once(self, *, record: bool) -> None:
        for product_id in self.product_ids:
            _ok(self.client.post("/cart/items", json={"product_id": product_id, "quantity": 1}))
        started = time.perf_counter()
        response = self.client.post("/orders", json={"address_id": self.address_id},
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
        elapsed_ms = (time.perf_counter() - started) * 1000
        order = _ok(response).json()
        _ok(self.client.post(f"/orders/{order['id']}/cancel"))
        if record:
            self.samples_ms.append(elapsed_ms)


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.method} {response.request.url} answered {response.status_code}: "
                         f"{response.text[:300]}")
    return response


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", action="append", required=True, help="a server to measure (repeatable)")
    parser.add_argument("--checkouts", type=int, default=200, help="timed checkouts per server")
    parser.add_argument("--warmup", type=int, default=10, help="untimed checkouts per server first")
    parser.add_argument("--lines", type=int, default=3, help="cart lines per checkout")
    options = parser.parse_args(argv)

    shoppers = [Shopper.sign_up(url, lines=options.lines) for url in options.base_url]
    for round_number in range(options.warmup + options.checkouts):
        ordered = shoppers if round_number % 2 == 0 else list(reversed(shoppers))
        for shopper in ordered:
            shopper.checkout_once(record=round_number >= options.warmup)

    print(f"POST /api/v1/orders, {options.lines} lines, {options.checkouts} checkouts per server (alternating), ms")
    print("| server | p50 | p90 | mean |")
    print("|---|---|---|---|")
    for shopper in shoppers:
        samples = shopper.samples_ms
        print(f"| {shopper.base_url} | {statistics.median(samples):.1f} | {percentile(samples, 0.9):.1f} "
              f"| {statistics.fmean(samples):.1f} |")


if __name__ == "__main__":
    sys.exit(main())
