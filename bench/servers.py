"""The servers a benchmark run starts, one kind at a time, on loopback: the floor, the monolith, the split
deployment. Every one runs under the same gunicorn settings (``config/gunicorn.py``) and with the same environment,
and everything a run creates (databases, cache keys, processes) is removed at the end."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from scripts.deployment import MONOLITH, ROOT, Deployment, free_port, postgres, venv_bin

SHOP_APP = "config.wsgi:application"
FLOOR_APP = "bench.floor.wsgi:application"
DEMO_PASSWORD = "Bench-Passw0rd-42!"


def postgres_admin_url() -> str:
    """The server of DATABASE_URL (the harness creates its own databases there)."""
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/any (or BENCH_POSTGRES_URL)")
    return f"{parts.scheme}://{parts.netloc}"


class BenchDeployment(Deployment):
    """A deployment served with the project's gunicorn settings rather than the end-to-end suite's small ones."""

    def gunicorn_command(self, role: str) -> list[str]:
        return gunicorn_command(SHOP_APP, self.ports[role], name=f"bench-{role}")


def gunicorn_command(app: str, port: int, *, name: str) -> list[str]:
    return [venv_bin("gunicorn"), "-c", "python:config.gunicorn", "--bind", f"127.0.0.1:{port}",
            "--name", name, app]


def shop_env(*, cache_prefix: str, redis_url: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "ECOMMERCE_CACHE_PREFIX": cache_prefix,
        # The benchmark measures the code, not the throttles (which still run on every request).
        "ECOMMERCE_THROTTLE_ANON": "100000000/min",
        "ECOMMERCE_THROTTLE_USER": "100000000/min",
        "ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP": "100000/15min",
        # The checkout storm registers its buyers from one address and lets each hold many unpaid orders.
        "ECOMMERCE_THROTTLE_REGISTER_IP": "100000/hour",
        "ECOMMERCE_MAX_OPEN_ORDERS_PER_USER": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESSLOG": "",
        **extra,
    }


def make_deployment(kind: str, *, run_id: str, cache_prefix: str, redis_url: str, log_dir: Path,
                    extra_env: dict[str, str] | None = None) -> BenchDeployment:
    env = shop_env(cache_prefix=cache_prefix, redis_url=redis_url, extra=extra_env or {})
    # Ports are chosen again at every start (see running).
    if kind == MONOLITH:
        return BenchDeployment.monolith(port=0, database=f"ecommerce_perf_{run_id}_monolith",
                                        postgres_url=postgres_admin_url(), env=env, log_dir=log_dir)
    return BenchDeployment.split(ports=dict.fromkeys(("gateway", "users", "products", "carts", "orders"), 0),
                                 database_prefix=f"ecommerce_perf_{run_id}_split_", postgres_url=postgres_admin_url(),
                                 env=env, log_dir=log_dir)


@contextlib.contextmanager
def running(deployment: Deployment) -> Iterator[Deployment]:
    # Fresh ports at every start: a port found free minutes ago may belong to someone else by now.
    ports: dict[str, int] = {}
    for role in deployment.roles:
        ports[role] = free_port(taken=ports.values())
    deployment.ports.update(ports)
    try:
        deployment.start_all(timeout=120)
        yield deployment
    finally:
        deployment.stop_all()


@contextlib.contextmanager
def floor_server(page_path: Path, log_dir: Path) -> Iterator[str]:
    """The bare Django view serving ``page_path`` under the shop's gunicorn settings."""
    port = free_port()
    holder = Deployment(roles=("floor",), ports={"floor": port}, databases={}, log_dir=log_dir)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.floor.settings", "BENCH_FLOOR_PAGE": str(page_path),
           "GUNICORN_ACCESSLOG": "", "PYTHONPATH": str(ROOT)}
    holder.spawn("floor", gunicorn_command(FLOOR_APP, port, name="bench-floor"), env)
    try:
        holder.wait_ready("floor", path="/api/v1/products", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        holder.stop_all()


def vacuum_analyze(deployment: Deployment) -> None:
    """What autovacuum would do soon after a bulk load: statistics for the planner, a visibility map for
    index-only scans. Measuring before it ran would measure the load, not the shop."""
    import psycopg

    for name in deployment.databases.values():
        with psycopg.connect(f"{deployment.postgres_url}/{name}", autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")


def drop_databases(deployment: Deployment) -> None:
    for name in deployment.databases.values():
        with contextlib.suppress(Exception):
            postgres(deployment.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_cache_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers of a master (its child processes)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                children.append(int(entry.name))
    return sorted(children)


def rss_mib(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def login(base_url: str, email: str, password: str) -> str:
    response = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["access"]
