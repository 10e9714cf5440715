"""The embedded default takes concurrent writes: a shop started as a fresh checkout starts it (SQLite file, in-memory
cache, no broker, DEBUG on), served by a real multi-process, multi-threaded server, answers a burst of parallel
registrations, cart writes and double-clicked checkouts without a single 5xx (SQLite used to answer "database is
locked" as a 500), and still makes exactly one order per idempotency key."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from scripts.deployment import Deployment, free_port
from tests.e2e.conftest import USER_PASSWORD, assert_problem, unique_email

pytestmark = pytest.mark.e2e

SHOPPERS = 8
CLICKS_PER_CHECKOUT = 4
ADDRESS: dict[str, Any] = {
    "full_name": "Parallel Shopper", "street": "1 Main St", "city": "Springfield", "state": "IL",
    "zip_code": "62701", "country": "US", "phone": "+15550100", "is_default": True,
}
T = TypeVar("T")
R = TypeVar("R")


@pytest.fixture(scope="module")
def sqlite_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("sqlite-shop")
    # What `make run` gives a new user, except the server: two processes of four threads each write to one file.
    embedded = {"REDIS_URL": "", "CELERY_BROKER_URL": "", "DJANGO_DEBUG": "1", "DJANGO_LOG_LEVEL": "WARNING",
                "ECOMMERCE_THROTTLE_ANON": "100000/min", "ECOMMERCE_THROTTLE_USER": "100000/min"}
    shop = Deployment.monolith(port=free_port(), database="shop", sqlite_dir=directory, env=embedded,
                               workers=2, threads=4, log_dir=directory)
    shop.create_databases(fresh=True)
    shop.migrate()
    try:
        shop.start_all(timeout=90)
        shop.manage(shop.public_role, "seed_demo", "--products", "4", "--no-orders", quiet=True)
        yield f"{shop.url()}/api/v1"
    finally:
        shop.stop_all()


def all_at_once(action: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Runs ``action`` on every item in its own thread, released together so the writes really overlap."""
    start = threading.Barrier(len(items))

    def run(item: T) -> R:
        start.wait(timeout=30)
        return action(item)

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(run, items))


def statuses(responses: Sequence[httpx.Response]) -> list[int]:
    return [response.status_code for response in responses]


def test_parallel_writes_on_sqlite_never_answer_5xx_and_make_one_order_per_key(sqlite_shop: str) -> None:
    with httpx.Client(base_url=sqlite_shop, timeout=60.0) as anonymous:
        product_ids = [p["id"] for p in anonymous.get("/products", params={"page_size": 2}).json()["results"]]

        # when shoppers register at the same moment
        emails = [unique_email("sqlite") for _ in range(SHOPPERS)]
        registered = all_at_once(lambda email: anonymous.post("/auth/register", json={
            "email": email, "password": USER_PASSWORD, "name": "Parallel Shopper"}), emails)
        logged_in = all_at_once(lambda email: anonymous.post("/auth/login", json={
            "email": email, "password": USER_PASSWORD}), emails)
    shoppers = [httpx.Client(base_url=sqlite_shop, timeout=60.0,
                             headers={"Authorization": f"Bearer {answer.json()['access']}"}) for answer in logged_in]
    try:
        # and fill their carts and address books at the same moment, two cart writes each
        cart_writes = all_at_once(lambda job: job[0].post("/cart/items", json={"product_id": job[1], "quantity": 1}),
                                  [(shopper, product) for shopper in shoppers for product in product_ids])
        addresses = all_at_once(lambda shopper: shopper.post("/users/me/addresses", json=ADDRESS), shoppers)

        # and every shopper clicks "buy" four times with one idempotency key, all shoppers at the same moment
        keys = {id(shopper): str(uuid.uuid4()) for shopper in shoppers}
        address_ids = {id(shopper): answer.json()["id"] for shopper, answer in zip(shoppers, addresses, strict=True)}
        checkouts = all_at_once(
            lambda shopper: shopper.post("/orders", json={"address_id": address_ids[id(shopper)]},
                                         headers={"Idempotency-Key": keys[id(shopper)]}),
            [shopper for shopper in shoppers for _ in range(CLICKS_PER_CHECKOUT)],
        )
        orders = [shopper.get("/orders").json() for shopper in shoppers]
    finally:
        for shopper in shoppers:
            shopper.close()

    # then no write failed on the server's side, and each key made exactly one order
    assert statuses(registered) == [201] * SHOPPERS, [r.text for r in registered if r.status_code != 201]
    assert statuses(logged_in) == [200] * SHOPPERS
    assert statuses(cart_writes) == [201] * len(cart_writes), [r.text for r in cart_writes if r.status_code != 201]
    assert statuses(addresses) == [201] * SHOPPERS
    server_errors = [(r.status_code, r.text) for r in checkouts if r.status_code >= 500]
    assert server_errors == []
    assert set(statuses(checkouts)) <= {201, 409}, [r.text for r in checkouts]
    assert [page["count"] for page in orders] == [1] * SHOPPERS
    assert {answer.json()["id"] for answer in checkouts if answer.status_code == 201} == {
        page["results"][0]["id"] for page in orders}



def test_with_debug_on_api_errors_are_still_problem_details(sqlite_shop: str) -> None:
    with httpx.Client(base_url=sqlite_shop, timeout=10.0) as anonymous:
        unknown = anonymous.get("/no-such-thing")
        bad_id = anonymous.get("/products/abc")
        invalid = anonymous.post("/cart/items", json={"product_id": 1, "quantity": 0},
                                 headers={"Authorization": "Bearer not-a-token"})

    assert_problem(unknown, 404, "not_found")
    assert_problem(bad_id, 404, "not_found")
    assert_problem(invalid, 401)
