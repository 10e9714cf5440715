"""On-demand benchmarks: seeding a large catalog and the latency of the hottest read endpoints.

Run with ``make bench`` (uses DATABASE_URL / REDIS_URL when set, else a throw-away SQLite file). Results are written
as a Markdown table to bench/results.md; nothing here is a pass/fail test."""

from __future__ import annotations

import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")
# DEBUG off refuses the development secret (config/settings/safety.py); a throw-away run gets one of its own.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
# Benchmarks measure the code, not the throttles.
os.environ.setdefault("ECOMMERCE_THROTTLE_ANON", "1000000/min")
os.environ.setdefault("ECOMMERCE_THROTTLE_USER", "1000000/min")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from ecommerce.contracts.users import users_service  # noqa: E402

PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
PASSWORD = "Bench-Password-1234"


def timed_requests(client: APIClient, method: str, path: str, **kwargs: object) -> tuple[float, float]:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = getattr(client, method)(path, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code < 400, (path, response.status_code, response.content[:300])
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    rows: list[tuple[str, str]] = []
    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    call_command("seed_demo", products=PRODUCTS, password=PASSWORD, stdout=StringIO())
    seconds = time.perf_counter() - started
    rows.append((f"seed_demo --products {PRODUCTS} (fresh database)", f"{seconds:.1f} s"))

    started = time.perf_counter()
    call_command("seed_demo", products=PRODUCTS, password=PASSWORD, stdout=StringIO())
    rows.append(("seed_demo again (idempotent rerun)", f"{time.perf_counter() - started:.1f} s"))

    anonymous = APIClient()
    for label, path in [
        ("GET /products?page_size=20", "/api/v1/products?page_size=20"),
        ("GET /products?page_size=100", "/api/v1/products?page_size=100"),
        ("GET /products?search=headphones", "/api/v1/products?search=headphones"),
        ("GET /products?category=1&ordering=price", "/api/v1/products?category=1&ordering=price"),
        ("GET /products?min_price=50&max_price=100&in_stock=true",
         "/api/v1/products?min_price=50&max_price=100&in_stock=true"),
        ("GET /products/{id}", "/api/v1/products/1"),
    ]:
        median, p95 = timed_requests(anonymous, "get", path)
        rows.append((label, f"median {median:.1f} ms, p95 {p95:.1f} ms"))

    tokens = users_service.auth_login(email="customer@example.com", password=PASSWORD)
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    customer.delete("/api/v1/cart")
    for product_id in range(1, 21):
        customer.post("/api/v1/cart/items", {"product_id": product_id, "quantity": 1}, format="json")
    median, p95 = timed_requests(customer, "get", "/api/v1/cart")
    rows.append(("GET /cart (20 lines)", f"median {median:.1f} ms, p95 {p95:.1f} ms"))

    header = (
        f"Benchmarks ({time.strftime('%Y-%m-%d')}, {connection.vendor}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; in-process test client, {REQUESTS} requests each)"
    )
    table = ["| measurement | result |", "|---|---|", *[f"| {name} | {value} |" for name, value in rows]]
    output = "\n".join([f"# {header}", "", *table, ""])
    (BENCH_DIR / "results.md").write_text(output)
    print(output)


if __name__ == "__main__":
    main()
