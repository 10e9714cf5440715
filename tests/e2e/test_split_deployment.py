"""What only the split deployment has to prove, against its real processes: roles serve only their own surface,
internal calls are signed and cannot be forged or replayed, each role's database holds only its tables, staff sign
in to a role's admin with their normal password, and a role that dies or freezes gives the public clear 503/504
answers within the timeout, leaves no half-made order, and is used again as soon as it is back."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from ecommerce.deployment import DOMAIN_ROLES
from scripts.deployment import Deployment
from tests.e2e.conftest import (
    RPC_TIMEOUT_SECONDS,
    SERVER_ENV,
    Customer,
    Shop,
    assert_problem,
    eventually,
    needs_shared_cache,
    unique_email,
)

pytestmark = pytest.mark.e2e

# Idempotent calls are tried three times, each bounded by the RPC timeout, with a short backoff between them.
ANSWER_BOUND_SECONDS = 3 * RPC_TIMEOUT_SECONDS + 2.0
# A circuit breaker stays open 10 s after it trips, then lets a trial call through.
BREAKER_RESET_SECONDS = 10.5
RECOVERY_SECONDS = 25.0


@pytest.fixture
def split(split_shop: Shop) -> Deployment:
    assert split_shop.deployment is not None
    return split_shop.deployment


def _public_paths_answer(shop: Shop) -> bool:
    """Every role answers through the gateway (and the gateway's breaker towards it is closed again)."""
    token = shop.staff_token("catalog@example.com")
    with shop.client() as anonymous, shop.client(token) as signed_in:
        login = anonymous.post("/auth/login", json={"email": f"probe-{uuid.uuid4().hex}@example.com",
                                                    "password": "x"})
        return (login.status_code == 401 and anonymous.get("/products").status_code == 200
                and signed_in.get("/cart").status_code == 200 and signed_in.get("/orders").status_code == 200)


@pytest.fixture
def faulty_split(split_shop: Shop, split: Deployment) -> Iterator[Deployment]:
    """For tests that kill or freeze roles: afterwards every role is up again and every breaker closed."""
    split_shop.staff_token("catalog@example.com")  # signed in while the users role is surely up
    yield split
    for role in DOMAIN_ROLES:
        process = split.processes.get(role)
        if process is None or not process.alive():
            split.processes.pop(role, None)
            split.start(role)
        else:
            split.signal(role, signal.SIGCONT)
    for role in DOMAIN_ROLES:
        split.wait_ready(role, timeout=60)
    assert eventually(lambda: _public_paths_answer(split_shop), timeout=RECOVERY_SECONDS)
    # A breaker inside a domain role (carts -> products, orders -> ...) may still be open: let it half-open.
    time.sleep(BREAKER_RESET_SECONDS)


def _stock(shop: Shop, product_id: int) -> int:
    with shop.client() as anonymous:
        return anonymous.get(f"/products/{product_id}").json()["stock"]


def _sign(path: str, body: bytes, *, secret: str, timestamp: int | None = None,
          nonce: str | None = None) -> dict[str, str]:
    """The documented signature of internal calls: HMAC-SHA256 over method, path, timestamp, nonce and body."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or uuid.uuid4().hex
    message = b"\n".join([b"POST", path.encode(), stamp.encode(), nonce.encode(), body])
    return {"Content-Type": "application/json", "X-Internal-Timestamp": stamp, "X-Internal-Nonce": nonce,
            "X-Internal-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}


# --- surfaces -----------------------------------------------------------------------------------------------------
def test_each_role_serves_only_its_own_surface(split: Deployment) -> None:
    gateway = split.url()
    internal_on_gateway = httpx.post(f"{gateway}/internal/rpc/products/product_get", content=b"{}")
    admin_on_gateway = httpx.get(f"{gateway}/admin/")

    assert_problem(internal_on_gateway, 404)
    assert_problem(admin_on_gateway, 404)
    for role in DOMAIN_ROLES:
        assert_problem(httpx.get(f"{split.url(role)}/api/v1/products"), 404)
        assert httpx.get(f"{split.url(role)}/healthz").status_code == 200
        # A role answers only for the contract it owns, even with a valid signature.
        other = "products" if role != "products" else "carts"
        path = f"/internal/rpc/{other}/product_get"
        refused = httpx.post(f"{split.url(role)}{path}", content=b"{}",
                             headers=_sign(path, b"{}", secret=split.secrets["INTERNAL_AUTH_TOKEN"]))
        assert refused.status_code == 404, (role, refused.text)


def test_the_gateway_has_no_database_and_readiness_covers_every_role(split: Deployment) -> None:
    ready = httpx.get(f"{split.url()}/readyz").json()

    assert "database" not in ready["checks"]
    assert {role: ready["checks"][role] for role in DOMAIN_ROLES} == dict.fromkeys(DOMAIN_ROLES, "ok")


# --- signed internal calls ----------------------------------------------------------------------------------------
def test_forged_tampered_stale_and_replayed_internal_calls_are_refused(split_shop: Shop, split: Deployment,
                                                                       split_product: Callable[..., dict]) -> None:
    product = split_product()
    path = "/internal/rpc/products/product_get"
    url = f"{split.url('products')}{path}"
    body = json.dumps({"product_id": product["id"]}).encode()
    secret = split.secrets["INTERNAL_AUTH_TOKEN"]

    unsigned = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    forged = httpx.post(url, content=body, headers=_sign(path, body, secret="guessed-secret"))
    stale = httpx.post(url, content=body, headers=_sign(path, body, secret=secret, timestamp=int(time.time()) - 3600))
    tampered = httpx.post(url, content=json.dumps({"product_id": product["id"] + 1}).encode(),
                          headers=_sign(path, body, secret=secret))
    elsewhere = httpx.post(f"{split.url('products')}/internal/rpc/products/product_delete", content=body,
                           headers=_sign(path, body, secret=secret))
    genuine_headers = _sign(path, body, secret=secret)
    genuine = httpx.post(url, content=body, headers=genuine_headers)
    replayed = httpx.post(url, content=body, headers=genuine_headers)

    for refused in (unsigned, forged, stale, tampered, elsewhere, replayed):
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_signature"
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["result"]["sku"] == product["sku"]
    assert _stock(split_shop, product["id"]) == 50  # nothing the refused calls asked for happened


# --- data ownership -----------------------------------------------------------------------------------------------
FRAMEWORK_TABLES = {
    "auth_group", "auth_group_permissions", "auth_permission", "django_admin_log", "django_content_type",
    "django_migrations", "django_session", "events_outboxevent", "events_processedevent", "events_deadletter",
    "events_lease",
    # the users role's own user table, or another role's shadow of it (staff sign-in to that role's admin)
    "users_user", "users_user_groups", "users_user_user_permissions",
}
# The orders role also holds the sandbox card processor, the orders context's stand-in for a payment processor.
OWN_PREFIXES = {"users": ("users_", "token_blacklist_"), "products": ("products_",), "carts": ("carts_",),
                "orders": ("orders_", "sandbox_processor_")}


def test_each_role_database_holds_only_that_roles_tables(split: Deployment) -> None:
    for role in DOMAIN_ROLES:
        with psycopg.connect(split.database_url(role)) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
        own = {t for t in tables if t.startswith(OWN_PREFIXES[role]) and t not in FRAMEWORK_TABLES}
        strays = tables - FRAMEWORK_TABLES - own

        assert own, f"{role} has none of its own tables"
        assert strays == set(), f"{role} holds tables it does not own: {sorted(strays)}"
        if role != "users":
            assert "users_address" not in tables
            assert not any(t.startswith("token_blacklist_") for t in tables)


# --- admin --------------------------------------------------------------------------------------------------------
def _admin_sign_in(base_url: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=15, follow_redirects=False)
    page = client.get("/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, page.text[:500]
    client.post("/admin/login/?next=/admin/", data={"csrfmiddlewaretoken": csrf.group(1), "username": email,
                                                     "password": password, "next": "/admin/"},
                headers={"Referer": f"{base_url}/admin/login/"})
    return client


def test_staff_sign_in_to_a_roles_admin_with_their_normal_password(split_shop: Shop, split: Deployment,
                                                                   split_product: Callable[..., dict],
                                                                   split_customer: Callable[[], Customer]) -> None:
    product = split_product()
    catalog = _admin_sign_in(split.url("products"), "catalog@example.com", split_shop.demo_password or "")
    order_staff = _admin_sign_in(split.url("orders"), "orders@example.com", split_shop.demo_password or "")
    customer = split_customer()
    outsider = _admin_sign_in(split.url("products"), customer.email, "Sturdy-Passphrase-2026!")
    wrong_password = _admin_sign_in(split.url("products"), "catalog@example.com", "not-the-password")

    products_page = catalog.get("/admin/products/product/", params={"q": product["sku"]})
    assert products_page.status_code == 200, products_page.text[:500]
    assert product["sku"] in products_page.text
    # The users app's admin lives with the users role only, even though the shadow user table is here.
    assert catalog.get("/admin/users/user/").status_code == 404
    assert order_staff.get("/admin/orders/order/").status_code == 200
    assert outsider.get("/admin/").status_code == 302  # a customer is not staff: back to the login page
    assert wrong_password.get("/admin/").status_code == 302
    for client in (catalog, order_staff, outsider, wrong_password):
        client.close()


def test_a_roles_admin_and_the_api_count_failed_sign_ins_together(split_shop: Shop, split: Deployment) -> None:
    needs_shared_cache(split_shop)
    limit = int(SERVER_ENV["ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP"].split("/")[0])
    email = unique_email("locked")
    answers = []
    with httpx.Client(base_url=split.url("products"), timeout=15, follow_redirects=False) as admin:
        for _ in range(limit + 1):
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', admin.get("/admin/login/").text)
            assert csrf
            answers.append(admin.post("/admin/login/", data={"csrfmiddlewaretoken": csrf.group(1), "username": email,
                                                             "password": "wrong", "next": "/admin/"},
                                      headers={"Referer": f"{split.url('products')}/admin/login/"}))
    with split_shop.client() as anonymous:
        api = anonymous.post("/auth/login", json={"email": email, "password": "wrong"})

    assert [answer.status_code for answer in answers] == [200] * limit + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert_problem(api, 429, "throttled")  # the gateway sees the products admin's count


# --- faults -------------------------------------------------------------------------------------------------------
class Traffic:
    """Public requests in a background thread; records every answer's status, problem code and duration."""

    def __init__(self, requests: list[Callable[[], httpx.Response]]) -> None:
        self.requests = requests
        self.answers: list[tuple[int, str, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for send in self.requests:
                started = time.monotonic()
                try:
                    response = send()
                    code = response.json().get("code", "") if response.status_code >= 400 else ""
                    self.answers.append((response.status_code, code, time.monotonic() - started))
                except httpx.HTTPError as error:
                    self.answers.append((0, type(error).__name__, time.monotonic() - started))

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=3 * ANSWER_BOUND_SECONDS)


def _timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def test_a_killed_role_answers_503_leaves_no_half_made_order_and_recovers(
        split_shop: Shop, faulty_split: Deployment, split_customer: Callable[[], Customer],
        split_product: Callable[..., dict]) -> None:
    split = faulty_split
    product = split_product(stock=40)
    buyers = [split_customer() for _ in range(3)]
    for buyer in buyers:
        assert buyer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1}).status_code == 201
    browsing = split_shop.client()
    attempts: list[tuple[Customer, int]] = []

    def checkout(buyer: Customer) -> httpx.Response:
        # Each round: make sure the cart holds the line (a successful checkout empties it), then check out.
        cart = buyer.api.get("/cart")
        if cart.status_code != 200:
            return cart
        if not cart.json()["items"]:
            return buyer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
        response = buyer.api.post("/orders", json={"address_id": buyer.address_id},  # type: ignore[attr-defined]
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
        attempts.append((buyer, response.status_code))
        return response

    with Traffic([lambda: browsing.get(f"/products/{product['id']}"), lambda: buyers[0].api.get("/cart"),
                  lambda: checkout(buyers[1]), lambda: checkout(buyers[2])]) as traffic:
        time.sleep(1.5)
        split.kill("products")
        time.sleep(2.0)
        down_checkout, checkout_seconds = _timed(lambda: _checkout(buyers[0]))
        # A read the gateway has not cached (a search no one made before) must reach the products role.
        down_read, read_seconds = _timed(lambda: browsing.get("/products", params={"search": uuid.uuid4().hex}))
        ready = httpx.get(f"{split.url()}/readyz", timeout=10)
        with split_shop.client(buyers[0].token) as still_signed_in:
            me = still_signed_in.get("/users/me")  # the access token is checked by the gateway alone
        split.start("products")
        split.wait_ready("products", timeout=60)
        assert eventually(lambda: browsing.get(f"/products/{product['id']}").status_code == 200,
                          timeout=RECOVERY_SECONDS)
        time.sleep(1.0)

    assert_problem(down_checkout, 503, "service_unavailable")
    assert_problem(down_read, 503, "service_unavailable")
    assert checkout_seconds < ANSWER_BOUND_SECONDS
    assert read_seconds < ANSWER_BOUND_SECONDS
    assert ready.status_code == 503
    assert ready.json()["checks"]["products"] == "unavailable"
    assert "products" in ready.json()["detail"]
    assert me.status_code == 200
    statuses = {status for status, _, _ in traffic.answers}
    assert statuses <= {200, 201, 503, 504}, traffic.answers
    assert 503 in statuses, "the traffic never saw the role down"
    assert max(seconds for _, _, seconds in traffic.answers) < ANSWER_BOUND_SECONDS
    assert {code for status, code, _ in traffic.answers if status >= 500} <= {"service_unavailable",
                                                                               "service_timeout"}

    # No half-made order: every order that exists is whole, every 201 has its order, and stock was never
    # handed out twice or given back for an order that still holds it.
    ordered = 0
    for buyer in buyers:
        orders = buyer.api.get("/orders", params={"page_size": 100}).json()["results"]
        created = sum(1 for who, status in attempts if who is buyer and status == 201)
        assert len(orders) >= created
        for order in orders:
            assert order["status"] == "pending"
            assert [(line["product_id"], line["quantity"]) for line in order["items"]] == [(product["id"], 1)]
            assert order["total"] == "15.00"
        ordered += len(orders)
    assert _stock(split_shop, product["id"]) <= 40 - ordered
    # And once the role is back, traffic succeeds again: a fresh checkout goes through.
    assert eventually(lambda: _checkout(buyers[0]).status_code == 201, timeout=RECOVERY_SECONDS)
    browsing.close()


def _checkout(buyer: Customer) -> httpx.Response:
    return buyer.api.post("/orders", json={"address_id": buyer.address_id},  # type: ignore[attr-defined]
                          headers={"Idempotency-Key": uuid.uuid4().hex})


def test_a_checkout_while_stock_is_unreachable_changes_nothing(split_shop: Shop, faulty_split: Deployment,
                                                               split_customer: Callable[[], Customer],
                                                               split_product: Callable[..., dict]) -> None:
    split = faulty_split
    product = split_product(stock=5)
    buyer = split_customer()
    buyer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2})
    key = uuid.uuid4().hex

    split.kill("products")
    failed = buyer.api.post("/orders", json={"address_id": buyer.address_id},  # type: ignore[attr-defined]
                            headers={"Idempotency-Key": key})
    split.start("products")
    split.wait_ready("products", timeout=60)
    assert eventually(lambda: split_shop.client().get(f"/products/{product['id']}").status_code == 200,
                      timeout=RECOVERY_SECONDS)

    assert_problem(failed, 503, "service_unavailable")
    assert buyer.api.get("/orders").json()["count"] == 0
    assert _stock(split_shop, product["id"]) == 5
    assert [line["quantity"] for line in buyer.api.get("/cart").json()["items"]] == [2]
    assert eventually(lambda: _checkout(buyer).status_code == 201, timeout=RECOVERY_SECONDS)
    assert _stock(split_shop, product["id"]) == 3


def test_a_frozen_role_answers_504_within_the_timeout_and_recovers(split_shop: Shop, faulty_split: Deployment,
                                                                   split_customer: Callable[[], Customer]) -> None:
    split = faulty_split
    buyer = split_customer()

    split.signal("carts", signal.SIGSTOP)
    try:
        frozen, seconds = _timed(lambda: buyer.api.get("/cart"))
        ready, ready_seconds = _timed(lambda: httpx.get(f"{split.url()}/readyz", timeout=10))
    finally:
        split.signal("carts", signal.SIGCONT)

    assert_problem(frozen, 504, "service_timeout")
    assert RPC_TIMEOUT_SECONDS <= seconds < ANSWER_BOUND_SECONDS
    assert ready.status_code == 503
    assert ready.json()["checks"]["carts"] == "unavailable"
    assert ready_seconds < 3
    assert eventually(lambda: buyer.api.get("/cart").status_code == 200, timeout=RECOVERY_SECONDS)


def test_with_the_users_role_down_sign_in_is_503_but_tokens_still_work(split_shop: Shop, faulty_split: Deployment,
                                                                       split_customer: Callable[[], Customer],
                                                                       split_product: Callable[..., dict]) -> None:
    split = faulty_split
    buyer = split_customer()
    product = split_product()

    split.kill("users")
    with split_shop.client() as anonymous:
        login = anonymous.post("/auth/login", json={"email": buyer.email, "password": "Sturdy-Passphrase-2026!"})
    cart = buyer.api.post("/cart/items", json={"product_id": product["id"], "quantity": 1})
    profile = buyer.api.get("/users/me")

    assert_problem(login, 503, "service_unavailable")
    assert cart.status_code == 201, cart.text  # the gateway validated the token without asking anyone
    assert_problem(profile, 503, "service_unavailable")
