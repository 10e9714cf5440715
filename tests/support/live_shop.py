"""A live shop for the suites that drive it from outside (the end-to-end API suite, the browser suite): real server
processes, in both deployment modes, shared by both suites within one run (registered as a plugin by the root
``conftest.py``).

- ``ECOMMERCE_E2E_BASE_URL=http://127.0.0.1:PORT``: run the API journeys against that server (started by you;
  staff journeys need ``ECOMMERCE_E2E_PASSWORD``, the demo users' password, and admin journeys
  ``ECOMMERCE_E2E_ADMIN_EMAIL``/``ECOMMERCE_E2E_ADMIN_PASSWORD``).
- Otherwise the suite starts the servers itself on free loopback ports: the monolith (one gunicorn, database
  ``ecommerce_e2e_<run>_monolith``) and the split deployment (five gunicorns, databases
  ``ecommerce_e2e_<run>_split_<role>``), each created for this run (``<run>`` is ``ECOMMERCE_TEST_RUN_ID`` or a
  random id), migrated and seeded, and dropped again at the end; a running ``make split`` or another run of the
  suite is left alone. It runs every journey against both (``ECOMMERCE_E2E_MODES=split`` to pick
  one). With ``REDIS_URL`` set every process of a deployment shares that Redis under a prefix of its own
  (``e2e-<run>-<mode>``), removed at the end; without it each process has its own in-memory cache, and the journeys
  that need the processes of a split deployment to share one (revocation, shared sign-in limits) are skipped (they
  fail when ``ECOMMERCE_REQUIRE_SERVICES=1``). The servers write their e-mails to files in the run's temporary
  directory, which the journeys that follow a mailed link read (``mails_to``). The split-only fault tests kill,
  freeze and restart roles of that deployment. The databases live on the PostgreSQL server of ``DATABASE_URL`` (or
  ``ECOMMERCE_E2E_POSTGRES_URL``, e.g. ``postgres://postgres@127.0.0.1:5432``); with neither set, nothing is probed or
  started and these journeys are skipped with the reason shown, or fail when ``ECOMMERCE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from ecommerce.deployment import ROLES
from scripts.deployment import Deployment, free_port
from tests.environment import service_missing

BASE_URL = os.environ.get("ECOMMERCE_E2E_BASE_URL", "").rstrip("/")


def _postgres_server_url() -> str:
    """The server to create this run's databases on: the one DATABASE_URL names, unless told otherwise."""
    explicit = os.environ.get("ECOMMERCE_E2E_POSTGRES_URL", "")
    if explicit:
        return explicit.rstrip("/")
    database = urlsplit(os.environ.get("DATABASE_URL", ""))
    if database.scheme in {"postgres", "postgresql"}:
        return urlunsplit((database.scheme, database.netloc, "", "", ""))
    return ""


POSTGRES_URL = _postgres_server_url()
RUN_ID = re.sub(r"[^a-z0-9_]", "", (os.environ.get("ECOMMERCE_TEST_RUN_ID") or uuid.uuid4().hex[:8]).lower())
MODES = [m for m in os.environ.get("ECOMMERCE_E2E_MODES", "monolith,split").split(",") if m]

DEMO_PASSWORD = "Demo-Passw0rd-e2e-42"
ADMIN_EMAIL = "admin@example.com"
# Every contract call the gateway makes gives up after this (per attempt); the fault tests hold answers to it.
RPC_TIMEOUT_SECONDS = 2.0
METRICS_TOKEN = "e2e-scraper-token-3b7d0c1e9f2a4c68"
# Long enough for a second request to arrive on a busy machine; the theft journey waits it out.
REFRESH_REUSE_GRACE_SECONDS = 3
# Enough per attempt for the slowest legitimate call (argon2 sign-in on a busy two-core machine).
SERVER_ENV = {
    "ECOMMERCE_RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
    "ECOMMERCE_THROTTLE_ANON": "100000/min",
    "ECOMMERCE_THROTTLE_USER": "100000/min",
    "ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP": "5/15min",
    "ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP": "100000/15min",
    "ECOMMERCE_THROTTLE_REGISTER_IP": "100000/hour",
    "ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS": str(REFRESH_REUSE_GRACE_SECONDS),
    # The fault tests keep buyers checking out in a loop while a role goes down; the cap on unpaid orders is
    # covered by the API tests.
    "ECOMMERCE_MAX_OPEN_ORDERS_PER_USER": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "ECOMMERCE_METRICS_TOKEN": METRICS_TOKEN,
    # A stopping role answers this long while load balancers take it out, then stops (config/gunicorn_hooks.py).
    "GUNICORN_DRAIN_SECONDS": "2",
}
# The split deployment writes its spans to its logs, one JSON line each, exported within a fraction of a second, so
# the tracing journey can follow one request across the roles (tests/e2e/test_split_observability.py), and its
# request lines, which the logging journey reads.
SPLIT_TRACING_ENV = {"ECOMMERCE_TRACING_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "200",
                     "DJANGO_LOG_LEVEL": "INFO"}
# Without a broker tasks run in the process that sends them. Redis, when there is one, is shared by every process of
# a deployment (throttles, revocation marks, replay protection), under a prefix of the deployment's own.
_NOT_INHERITED = ("CELERY_BROKER_URL",)
REDIS_URL = os.environ.get("REDIS_URL", "")


@dataclass
class Shop:
    """A running shop as the tests see it: where its public API is, the demo staff password, and (when the suite
    started it) the deployment, so split-only tests can reach roles and kill or restart them."""

    mode: str
    base_url: str
    demo_password: str | None
    admin_email: str | None
    admin_password: str | None
    deployment: Deployment | None = None
    # Where the servers the suite started write their e-mails (Django's file backend), one file per connection.
    mail_dir: Path | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def admin_url(self, app: str) -> str:
        """Where the admin pages of ``app`` (users, products, carts, orders) are: the monolith's one admin, or in a
        split deployment the admin of the role that owns the app (the gateway serves none)."""
        if self.deployment is not None and self.deployment.is_split:
            return f"{self.deployment.url(app)}/admin"
        return f"{self.base_url}/admin"

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.base_url}/api/v1", headers=headers, timeout=30.0)

    def login(self, email: str, password: str) -> str:
        with self.client() as anonymous:
            response = anonymous.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access"]

    def staff_token(self, email: str) -> str:
        if self.demo_password is None:
            pytest.skip("set ECOMMERCE_E2E_PASSWORD (the demo users' password) for staff journeys")
        if email not in self._tokens:
            self._tokens[email] = self.login(email, self.demo_password)
        return self._tokens[email]

    def admin_token(self) -> str:
        if not (self.admin_email and self.admin_password):
            pytest.skip("set ECOMMERCE_E2E_ADMIN_EMAIL and ECOMMERCE_E2E_ADMIN_PASSWORD for admin journeys")
        if "admin" not in self._tokens:
            self._tokens["admin"] = self.login(self.admin_email, self.admin_password)
        return self._tokens["admin"]


def _postgres_unreachable_reason() -> str | None:
    if not POSTGRES_URL:
        return "no PostgreSQL server is configured (set DATABASE_URL=postgres://... or ECOMMERCE_E2E_POSTGRES_URL)"
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - any failure means the suite cannot start its servers
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(error).__name__})"


def cache_prefix(mode: str) -> str:
    return f"e2e-{RUN_ID}-{mode}"


def forget_cache(mode: str) -> None:
    """Removes the keys the deployment left in Redis: only those under its own prefix."""
    if not REDIS_URL:
        return
    import redis

    with redis.Redis.from_url(REDIS_URL) as connection:
        keys = list(connection.scan_iter(match=f"{cache_prefix(mode)}:*", count=1000))
        for start in range(0, len(keys), 500):
            connection.delete(*keys[start:start + 500])


def mail_dir_of(tmp_dir: Path) -> Path:
    return Path(tmp_dir) / "mail"


def _start(mode: str, tmp_dir: Any) -> Deployment:
    taken: list[int] = []

    def port() -> int:
        taken.append(free_port(taken=taken))
        return taken[-1]

    env = {**SERVER_ENV, **{name: "" for name in _NOT_INHERITED}, "REDIS_URL": REDIS_URL,
           "ECOMMERCE_CACHE_PREFIX": cache_prefix(mode),
           # The URL's path loses its first slash when read, so an absolute path follows "filemail:///".
           "EMAIL_URL": f"filemail:///{mail_dir_of(tmp_dir).resolve()}"}
    options: dict[str, Any] = {"postgres_url": POSTGRES_URL, "env": env, "workers": 1, "threads": 4,
                               "log_dir": tmp_dir}
    if mode == "split":
        env.update(SPLIT_TRACING_ENV)
        ports = {role: port() for role in ROLES}
        deployment = Deployment.split(ports=ports, database_prefix=f"ecommerce_e2e_{RUN_ID}_split_", **options)
    else:
        deployment = Deployment.monolith(port=port(), database=f"ecommerce_e2e_{RUN_ID}_monolith", **options)
    deployment.create_databases(fresh=True)
    deployment.migrate()
    try:
        deployment.start_all(timeout=90)
        deployment.seed(products=24, password=DEMO_PASSWORD)
        deployment.create_superuser(email=ADMIN_EMAIL, password=DEMO_PASSWORD, name="E2E Admin")
    except BaseException:
        deployment.stop_all()
        deployment.drop_databases()
        raise
    return deployment


class _Deployments:
    """Started lazily, once per session each, and all stopped at the end of the session."""

    def __init__(self, tmp_factory: pytest.TempPathFactory) -> None:
        self.tmp_factory = tmp_factory
        self.started: dict[str, Deployment] = {}
        self.failed: dict[str, str] = {}

    def get(self, mode: str) -> Deployment:
        if mode in self.failed:
            pytest.fail(f"the {mode} deployment did not start: {self.failed[mode]}")
        if mode not in self.started:
            try:
                self.started[mode] = _start(mode, self.tmp_factory.mktemp(f"e2e-{mode}"))
            except Exception as error:
                self.failed[mode] = str(error)[-3000:]
                raise
        return self.started[mode]

    def stop_all(self) -> None:
        for mode, deployment in self.started.items():
            deployment.stop_all()
            deployment.drop_databases()
            forget_cache(mode)


@pytest.fixture(scope="session")
def _deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Deployments]:
    if not BASE_URL:
        reason = _postgres_unreachable_reason()
        if reason:
            service_missing(f"the end-to-end suite needs ECOMMERCE_E2E_BASE_URL or a reachable PostgreSQL: {reason}")
    registry = _Deployments(tmp_path_factory)
    yield registry
    registry.stop_all()


def _shop_for(mode: str, registry: _Deployments) -> Shop:
    if mode == "external":
        return Shop(mode=mode, base_url=BASE_URL, demo_password=os.environ.get("ECOMMERCE_E2E_PASSWORD"),
                    admin_email=os.environ.get("ECOMMERCE_E2E_ADMIN_EMAIL"),
                    admin_password=os.environ.get("ECOMMERCE_E2E_ADMIN_PASSWORD"))
    deployment = registry.get(mode)
    return Shop(mode=mode, base_url=deployment.url(), demo_password=DEMO_PASSWORD, admin_email=ADMIN_EMAIL,
                admin_password=DEMO_PASSWORD, deployment=deployment, mail_dir=mail_dir_of(deployment.log_dir))


_shops: dict[str, Shop] = {}


@pytest.fixture(scope="session", params=["external"] if BASE_URL else MODES)
def shop(request: pytest.FixtureRequest, _deployments: _Deployments) -> Shop:
    """The public API under test, once per deployment mode."""
    if request.param not in _shops:
        _shops[request.param] = _shop_for(request.param, _deployments)
    return _shops[request.param]


@pytest.fixture(scope="session")
def split_shop(_deployments: _Deployments) -> Shop:
    """The split deployment started by the suite (the fault tests need to own its processes)."""
    if BASE_URL:
        pytest.skip("fault tests start their own split deployment; unset ECOMMERCE_E2E_BASE_URL to run them")
    if "split" not in _shops:
        _shops["split"] = _shop_for("split", _deployments)
    return _shops["split"]


@pytest.fixture
def split_customer(split_shop: Shop) -> Iterator[Callable[[], Customer]]:
    clients: list[httpx.Client] = []

    def make() -> Customer:
        email = f"split-{uuid.uuid4().hex[:12]}@example.com"
        with split_shop.client() as anonymous:
            registered = anonymous.post("/auth/register", json={"email": email, "password": "Sturdy-Passphrase-2026!",
                                                                "name": "Split Customer"})
            assert registered.status_code == 201, registered.text
        token = split_shop.login(email, "Sturdy-Passphrase-2026!")
        client = split_shop.client(token)
        clients.append(client)
        address = client.post("/users/me/addresses", json={"full_name": "Ann", "street": "1 Main St",
                                                           "city": "Springfield", "zip_code": "62701",
                                                           "country": "US"})
        assert address.status_code == 201, address.text
        customer = Customer(id=registered.json()["id"], email=email, token=token, api=client)
        customer.address_id = address.json()["id"]  # type: ignore[attr-defined]
        return customer

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def split_product(split_shop: Shop) -> Callable[..., dict[str, Any]]:
    def make(*, stock: int = 50, price: str = "10.00") -> dict[str, Any]:
        with split_shop.client(split_shop.staff_token("catalog@example.com")) as staff:
            sku = f"SPLIT-{uuid.uuid4().hex[:8]}"
            response = staff.post("/products", json={"sku": sku, "name": f"Split {sku}", "price": price,
                                                     "stock": stock})
        assert response.status_code == 201, response.text
        return response.json()

    return make


# --- helpers the journeys share -----------------------------------------------------------------------------------
def unique_email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


USER_PASSWORD = "Sturdy-Passphrase-2026!"


@dataclass
class Customer:
    id: int
    email: str
    token: str
    api: httpx.Client


def needs_shared_cache(shop: Shop) -> None:
    """Revocation marks and sign-in counters cross processes only through a shared cache (Redis)."""
    if shop.mode == "split" and not REDIS_URL:
        service_missing("the processes of a split deployment share revocation marks and counters only through "
                        "REDIS_URL")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body), body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def eventually(check: Callable[[], bool], *, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def mails_to(shop: Shop, address: str, *, at_least: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
    """The e-mails the shop sent to ``address``, oldest first, once there are ``at_least`` of them. Only the servers
    this suite starts are observable (they write mail to files); against an external server the test is skipped."""
    if shop.mail_dir is None:
        pytest.skip("the e-mails of an external server cannot be read; run the suite against its own servers")
    found: list[EmailMessage] = []

    def collect() -> bool:
        found.clear()
        for path in sorted(shop.mail_dir.glob("*.log")) if shop.mail_dir.exists() else []:
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if raw.strip():
                    message = message_from_bytes(raw, policy=policy.default)
                    if message["To"] == address:
                        found.append(message)  # type: ignore[arg-type]
        return len(found) >= at_least

    assert eventually(collect, timeout=timeout), f"{len(found)} e-mail(s) to {address} in {shop.mail_dir}"
    return list(found)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
