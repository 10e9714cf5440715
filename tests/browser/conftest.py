"""The browser suite: staff at work in the Django admin, seen as a person sees it, in both deployment modes.

Playwright drives the ``chromium`` of the operating system (Debian's package, ``/usr/bin/chromium``, installed by
``.ci/run``; ``ECOMMERCE_BROWSER_PATH`` names another), headless and never downloaded. The browser is kept quiet:
no background networking, updates, sync or extensions, and every request to a host other than the shop under test
is refused and recorded (``page.foreign_requests``), so a page that needs the internet fails here as it would for
staff on a closed network.

The shop is the live one of ``tests.support.live_shop`` (the same servers the end-to-end suite drives): the monolith
serves one admin; in a split deployment each domain role serves the admin of its own models, and staff sign in
there with their normal e-mail and password (``ecommerce.rpc.shadow_users``). ``shop.admin_url(app)`` says where.

Screenshots go to ``var/screenshots/<mode>/`` (``ECOMMERCE_SCREENSHOT_DIR`` to change), the artefacts of the last
run (older ones are removed when the browser starts); a failing test leaves one of the page it failed on.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ecommerce.roles import Role
from scripts.deployment import ROOT
from tests.environment import service_missing
from tests.support import live_shop_fixtures as journeys
from tests.support.live_shop import USER_PASSWORD, Customer, Shop, unique_email

CHROMIUM = os.environ.get("ECOMMERCE_BROWSER_PATH", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(os.environ.get("ECOMMERCE_SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
# What a browser does on its own when nobody asks: none of it belongs in a test, and none may reach the network.
QUIET_CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-extensions",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-pings",
]
# Long enough for an argon2 sign-in through two processes on a busy two-core machine.
ACTION_TIMEOUT_MS = 30_000

# The end-to-end journeys' fixtures: customers, the demo staff's API clients, products, addresses.
address_of = journeys.address_of
catalog_staff = journeys.catalog_staff
customer = journeys.customer
make_product = journeys.make_product
new_customer = journeys.new_customer
order_staff = journeys.order_staff


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives a browser against a live server (``-m "not browser"`` leaves them out)."""
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the browser suite needs Playwright for Python (pip install -r requirements/dev.txt)")
    if not Path(CHROMIUM).exists():
        service_missing(f"the browser suite needs chromium at {CHROMIUM} (apt-get install chromium)")
    for stale in SCREENSHOT_DIR.glob("*/*.png"):  # the artefacts are this run's only
        stale.unlink()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, shop: Shop, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page. Requests to any host but loopback are refused and kept in
    ``page.foreign_requests``; the test fails if there were any."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=False)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    foreign: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    opened = context.new_page()
    opened.foreign_requests = foreign
    yield opened
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        save_screenshot(opened, shop, f"FAILED-{request.node.name}")
    context.close()
    assert not foreign, f"the page asked for hosts other than the shop: {foreign}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Keeps the call's report on the test, so the ``page`` fixture knows whether to keep a screenshot of a failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def save_screenshot(page: Any, shop: Shop, name: str) -> Path:
    """The whole page as a PNG under the run's screenshot folder, one sub-folder per deployment mode."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    path = SCREENSHOT_DIR / shop.mode / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(shop: Shop) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        return save_screenshot(page, shop, name)

    return take


@dataclass(frozen=True)
class StaffMember:
    id: int
    email: str
    password: str
    role: Role


@pytest.fixture
def make_staff(shop: Shop) -> Callable[[Role], StaffMember]:
    """A new account with ``role``: registered through the public API like anyone, then given the role by the
    administrator, so it lands in the role's group exactly as real staff do."""

    def make(role: Role) -> StaffMember:
        email = unique_email(role.value.replace("_", "-"))
        with shop.client() as guest:
            registered = guest.post("/auth/register", json={"email": email, "password": USER_PASSWORD,
                                                                "name": f"Browser {role.value}"})
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["id"]
        if role != Role.CUSTOMER:
            with shop.client(shop.admin_token()) as admin:
                promoted = admin.patch(f"/users/{user_id}", json={"role": role.value})
            assert promoted.status_code == 200, promoted.text
        return StaffMember(id=user_id, email=email, password=USER_PASSWORD, role=role)

    return make


@pytest.fixture
def order_staff_member(make_staff: Callable[[Role], StaffMember]) -> StaffMember:
    return make_staff(Role.ORDER_STAFF)


@pytest.fixture
def catalog_staff_member(make_staff: Callable[[Role], StaffMember]) -> StaffMember:
    return make_staff(Role.CATALOG_STAFF)


def sign_in(page: Any, admin_url: str, email: str, password: str) -> Any:
    """Signs in on the admin's own login form, as staff do; returns the response to the form's post."""
    page.goto(f"{admin_url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as navigation:
        page.click("input[type=submit]")
    return navigation.value


@pytest.fixture
def signed_in(page: Any, shop: Shop) -> Callable[[StaffMember, str], Any]:
    """Signs ``member`` in to the admin that serves ``app`` and checks it worked; returns the page."""

    def sign(member: StaffMember, app: str) -> Any:
        sign_in(page, shop.admin_url(app), member.email, member.password)
        assert page.locator("#user-tools").count() == 1, page.content()[:2000]
        return page

    return sign


@pytest.fixture
def place_order(new_customer: Callable[[], Customer], make_product: Callable[..., dict[str, Any]],
                address_of: Callable[[Customer], int], order_staff: httpx.Client) -> Callable[..., dict[str, Any]]:
    """A new customer's order of two units of a new product, made through the public API and moved by the demo
    order staff (through the API too) to ``status``. Returns the order as the API shows it, with ``customer``."""

    def place(status: str = "pending") -> dict[str, Any]:
        shopper = new_customer()
        product = make_product(stock=5)
        added = shopper.api.post("/cart/items", json={"product_id": product["id"], "quantity": 2})
        assert added.status_code == 201, added.text
        made = shopper.api.post("/orders", json={"address_id": address_of(shopper)},
                                headers={"Idempotency-Key": uuid.uuid4().hex})
        assert made.status_code == 201, made.text
        order = made.json()
        path = {"pending": [], "paid": ["paid"], "shipped": ["paid", "shipped"],
                "delivered": ["paid", "shipped", "delivered"]}[status]
        for step in path:
            moved = order_staff.post(f"/orders/{order['id']}/status", json={"status": step})
            assert moved.status_code == 200, moved.text
            order = moved.json()
        return {**order, "customer": shopper}

    return place
