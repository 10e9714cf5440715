"""``make bench``: the shop against the framework's floor, side by side, on this machine, in one run.

Every row of the performance targets is measured here and written to bench/results.md with the machine, the date,
the absolute figures, the ratios and whether each target is met. It is a benchmark, not a test: nothing here fails
a build. It needs PostgreSQL (DATABASE_URL names the server; the harness creates and drops its own databases
``ecommerce_perf_<run>_*``), Redis (REDIS_URL; only keys under this run's prefix are touched and removed) and wrk.
Every server runs on loopback under the project's gunicorn settings and is stopped at the end, whatever happens.

    make bench                                   # every row, defaults below (about 20 minutes)
    make bench BENCH_ARGS="--quick"              # short runs for development (a few minutes)
    .venv/bin/python bench/run.py --help         # every knob
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import httpx  # noqa: E402

from bench import servers  # noqa: E402
from bench.load import WrkResult, require_wrk, sequential, wrk, wrk_runs  # noqa: E402
from scripts.deployment import MONOLITH, ROOT  # noqa: E402

PRODUCTS = "/api/v1/products"
SEARCH = f"{PRODUCTS}?search=wireless"
FILTERED = f"{PRODUCTS}?min_price=50&max_price=100&in_stock=true"
DEEP = f"{PRODUCTS}?page=200"
DEEPER_PAGE_SHARE = 0.5  # a page halfway through the catalog
RPC_TIMEOUT_SECONDS = 5.0


@dataclass
class Row:
    measure: str
    figures: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure: str, figures: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(measure, figures, target, met))
        verdict = "" if met is None else (" [met]" if met else " [NOT met]")
        print(f"  {measure}: {figures}{verdict}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} cores ({cpu}), {memory_kib / 1024 / 1024:.0f} GiB memory, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def gunicorn_settings() -> str:
    namespace: dict = {}
    exec((ROOT / "config" / "gunicorn.py").read_text(), namespace)  # noqa: S102 - our own settings file
    return (f"gunicorn {namespace['worker_class']}, {namespace['workers']} workers x {namespace['threads']} threads, "
            f"keep-alive {namespace['keepalive']} s, access log off")


class Harness:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.run_id = uuid.uuid4().hex[:8]
        self.cache_prefix = f"bench-{self.run_id}"
        self.redis_url = os.environ.get("REDIS_URL", "")
        if not self.redis_url:
            sys.exit("make bench needs Redis: set REDIS_URL=redis://127.0.0.1:6379/<db>")
        self.log_dir = ROOT / "var" / "bench" / self.run_id
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.report = Report()
        self.deployments: list[servers.BenchDeployment] = []
        self.detail_ids: list[int] = []
        self.floor_page = self.log_dir / "floor_page.json"
        self.detail_p50_32 = float("nan")
        self.split_detail_paths: list[str] = []
        self.load_at_start = os.getloadavg()[0]
        self.deeper_page = max(1, int(options.products / 20 * DEEPER_PAGE_SHARE))

    # --- plumbing ---------------------------------------------------------------------------------------------
    def deployment(self, kind: str, *, products: int, extra_env: dict[str, str] | None = None):
        env = {"CELERY_BROKER_URL": "", "ECOMMERCE_RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
               **(extra_env or {})}
        deployment = servers.make_deployment(kind, run_id=self.run_id, cache_prefix=self.cache_prefix,
                                             redis_url=self.redis_url, log_dir=self.log_dir, extra_env=env)
        self.deployments.append(deployment)
        started = time.monotonic()
        deployment.create_databases(fresh=True)
        deployment.migrate()
        if kind == MONOLITH:
            deployment.seed(products=products, password=servers.DEMO_PASSWORD)
        else:
            # Seeding goes through the gateway's contracts, so the roles must be up.
            with servers.running(deployment):
                deployment.seed(products=products, password=servers.DEMO_PASSWORD)
        servers.vacuum_analyze(deployment)
        print(f"  {kind}: {products:,} products ready in {time.monotonic() - started:.0f} s", flush=True)
        return deployment

    def cleanup(self) -> None:
        for deployment in self.deployments:
            deployment.stop_all()
            if not self.options.keep_databases:
                servers.drop_databases(deployment)
        servers.delete_cache_keys(self.redis_url, self.cache_prefix)

    def bump_catalog_version(self) -> None:
        """Makes every cached catalog answer (pages, counts) stale, as a write would: the next read is cold."""
        import redis

        redis.Redis.from_url(self.redis_url).incr(f"{self.cache_prefix}:1:cache-version:products.catalog")

    def load(self, base_url: str, paths: list[str], *, connections: int | None = None, seconds: float | None = None,
             token: str | None = None, one_run: bool = False) -> WrkResult:
        """Load for ``seconds``: as the median of short runs (see ``wrk_runs``), or as one long run."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        run = wrk if one_run else wrk_runs
        return run(base_url, paths, seconds=seconds or self.options.seconds,
                   connections=connections or self.options.connections, headers=headers)

    def prepare_shop_data(self, url: str) -> None:
        """A 20-line cart for the demo customer; the product ids the detail row spreads over; the floor's page."""
        token = servers.login(url, "customer@example.com", servers.DEMO_PASSWORD)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            client.delete("/api/v1/cart")
            page = client.get(PRODUCTS, params={"in_stock": "true", "page_size": 100}).json()["results"]
            for product in page[:20]:
                client.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}).raise_for_status()
            lines = len(client.get("/api/v1/cart").json()["items"])
            if lines != 20:
                raise RuntimeError(f"the benchmark cart has {lines} lines, not 20")
        self.detail_ids = [product["id"] for product in page]
        self.floor_page.write_bytes(httpx.get(f"{url}{PRODUCTS}", timeout=30).content)

    def prepare_split(self, url: str) -> None:
        """The split deployment's 20-line cart and detail ids (its product ids differ from the monolith's)."""
        token = servers.login(url, "customer@example.com", servers.DEMO_PASSWORD)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            client.delete("/api/v1/cart")
            page = client.get(PRODUCTS, params={"in_stock": "true", "page_size": 100}).json()["results"]
            for product in page[:20]:
                client.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}).raise_for_status()
        self.split_detail_paths = [f"{PRODUCTS}/{product['id']}" for product in page]

    # --- rows -------------------------------------------------------------------------------------------------
    def throughput_against_floor(self, monolith) -> None:
        print("Throughput against the floor (floor and shop alternate, one at a time)", flush=True)
        detail_paths = [f"{PRODUCTS}/{product_id}" for product_id in self.detail_ids]
        runs: dict[str, list[WrkResult]] = {"floor": [], "list": [], "detail": [], "cart": [], "search": []}
        for round_number in range(self.options.rounds):
            with servers.floor_server(self.floor_page, self.log_dir) as floor_url:
                self.load(floor_url, [PRODUCTS], seconds=2)  # warm-up
                runs["floor"].append(self.load(floor_url, [PRODUCTS]))
            with servers.running(monolith):
                url = monolith.url()
                token = servers.login(url, "customer@example.com", servers.DEMO_PASSWORD)
                for name, paths, auth in (("list", [PRODUCTS], None), ("detail", detail_paths, None),
                                          ("cart", ["/api/v1/cart"], token), ("search", [SEARCH], None)):
                    self.load(url, paths, seconds=2, token=auth)  # warm-up: caches and connections
                    runs[name].append(self.load(url, paths, token=auth))
            print(f"  round {round_number + 1}: " + "; ".join(
                f"{name} {results[-1].requests_per_second:,.0f} req/s" for name, results in runs.items()), flush=True)
        floor = median([run.requests_per_second for run in runs["floor"]])
        self.report.add("floor: bare Django view, same 20-item JSON page", self._describe(runs["floor"]))
        for name, label, target in (("list", "GET /products (20 items)", 0.7),
                                    ("detail", "GET /products/{id}", 0.7),
                                    ("cart", "GET /cart (20 lines, authenticated)", 0.4),
                                    ("search", "GET /products?search=wireless (100 000 products)", 0.2)):
            ratio = median([run.requests_per_second for run in runs[name]]) / floor
            errors = sum(run.errors for run in runs[name])
            self.report.add(f"{label}: throughput", f"{self._describe(runs[name])}; {ratio:.2f} x floor"
                            + (f"; {errors} errors" if errors else ""), f">= {target} x floor",
                            ratio >= target and errors == 0)
        self.detail_p50_32 = median([run.p50_ms for run in runs["detail"]])

    @staticmethod
    def _describe(results: list[WrkResult]) -> str:
        return (f"{median([r.requests_per_second for r in results]):,.0f} req/s, "
                f"p50 {median([r.p50_ms for r in results]):.1f} ms, p99 {median([r.p99_ms for r in results]):.1f} ms")

    def single_request_latency(self, monolith) -> None:
        print("Single-request latency at the full catalog (cold: every read after a catalog change)", flush=True)
        samples = self.options.samples
        with servers.running(monolith), httpx.Client(base_url=monolith.url(), timeout=30) as client:
            for label, path, limit in (("search ?search=wireless", SEARCH, 10.0),
                                       ("filtered ?min_price=50&max_price=100&in_stock=true", FILTERED, 20.0),
                                       ("deep page ?page=200", DEEP, 20.0),
                                       (f"deeper page ?page={self.deeper_page}", f"{PRODUCTS}?page={self.deeper_page}",
                                        20.0)):
                cold = sequential(client, [path] * samples, before_each=self.bump_catalog_version)
                warm = sequential(client, [path] * samples)
                self.report.add(f"{label}: one request alone", f"cold {cold.describe()}; cached {warm.describe()}",
                                f"p50 <= {limit:.0f} ms", cold.p50_ms <= limit)

    def split_against_monolith(self, monolith, split) -> None:
        print("Split against monolith, p50 at 8 connections (alternating)", flush=True)
        results: dict[tuple[str, str], list[WrkResult]] = {}
        detail_paths = [f"{PRODUCTS}/{product_id}" for product_id in self.detail_ids]
        for _ in range(self.options.split_rounds):
            for kind, deployment in (("monolith", monolith), ("split", split)):
                with servers.running(deployment):
                    url = deployment.url()
                    token = servers.login(url, "customer@example.com", servers.DEMO_PASSWORD)
                    split_paths = detail_paths if kind == "monolith" else self.split_detail_paths
                    for name, paths, auth in (("list", [PRODUCTS], None), ("detail", split_paths, None),
                                              ("cart", ["/api/v1/cart"], token)):
                        self.load(url, paths, connections=8, seconds=2, token=auth)
                        results.setdefault((kind, name), []).append(self.load(url, paths, connections=8, token=auth))
        for name in ("list", "detail", "cart"):
            mono = median([r.p50_ms for r in results[("monolith", name)]])
            split_p50 = median([r.p50_ms for r in results[("split", name)]])
            ratio = split_p50 / mono
            self.report.add(f"split / monolith p50, {name}", f"split {split_p50:.1f} ms, monolith {mono:.1f} ms: "
                            f"{ratio:.2f}", "<= 1.3", ratio <= 1.3)

    def frozen_role(self, split) -> None:
        freeze = self.options.freeze_seconds
        print(f"A role frozen for {freeze:.0f} s under 8 concurrent readers", flush=True)
        outcomes: list[tuple[float, float, int]] = []  # (started, seconds, status)
        lock = threading.Lock()
        stop = threading.Event()
        unasked = itertools.count(1)  # next() on it is atomic under the GIL: each reader gets its own bound
        with servers.running(split):
            url = split.url()

            def reader() -> None:
                with httpx.Client(base_url=url, timeout=60) as client:
                    while not stop.is_set():
                        # A price bound no one asked before: never cached, so it must reach the products role.
                        # (Drawn at random, some would repeat within a run, and the gateway answer those itself.)
                        path = f"{PRODUCTS}?min_price={next(unasked) / 100:.2f}"
                        started = time.monotonic()
                        try:
                            status = client.get(path).status_code
                        except httpx.HTTPError:
                            status = 0
                        with lock:
                            outcomes.append((started, time.monotonic() - started, status))

            with ThreadPoolExecutor(max_workers=8) as pool:
                for _ in range(8):
                    pool.submit(reader)
                time.sleep(2)
                split.signal("products", signal.SIGSTOP)
                frozen_at = time.monotonic()  # after the signal: a request started before it may still succeed
                try:
                    time.sleep(freeze)
                finally:
                    thawed_at = time.monotonic()  # before the signal, for the same reason
                    split.signal("products", signal.SIGCONT)
                time.sleep(RPC_TIMEOUT_SECONDS + 2)
                stop.set()
        started_frozen = [(started, seconds, status) for started, seconds, status in outcomes
                          if frozen_at <= started < thawed_at]
        # Judged: answers given while the role was frozen. One asked just before the thaw may rightly succeed after.
        during = [(seconds, status) for started, seconds, status in started_frozen if started + seconds < thawed_at]
        statuses = Counter(status for _, status in during)
        slowest = max((seconds for _, seconds, _ in started_frozen), default=0.0)
        recovered = [started - thawed_at for started, _, status in outcomes if started >= thawed_at and status == 200]
        ok = bool(during) and set(statuses) <= {503, 504} and slowest <= RPC_TIMEOUT_SECONDS + 1
        self.report.add(
            f"products role frozen {freeze:.0f} s, 8 readers of uncached pages",
            f"{len(during)} answers while frozen: {dict(sorted(statuses.items()))}; slowest {slowest:.2f} s "
            f"(RPC timeout {RPC_TIMEOUT_SECONDS:.0f} s); first 200 {min(recovered, default=float('nan')):.1f} s "
            "after the thaw",
            "every answer <= timeout + 1 s; only 503/504", ok)

    def checkout_storm(self, monolith) -> None:
        buyers, hot, stock, seconds = 32, 5, self.options.storm_stock, self.options.storm_seconds
        print(f"Checkout storm: {buyers} buyers, {hot} hot products of {stock} each, {seconds:.0f} s", flush=True)
        with servers.running(monolith):
            url = monolith.url()
            staff = servers.login(url, "catalog@example.com", servers.DEMO_PASSWORD)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {staff}"}, timeout=30) as client:
                hot_ids = []
                for index in range(hot):
                    response = client.post(PRODUCTS, json={"sku": f"HOT-{self.run_id}-{index}", "name": f"Hot {index}",
                                                           "price": "19.99", "stock": stock})
                    response.raise_for_status()
                    hot_ids.append(response.json()["id"])
            tokens = [self._buyer(url, index) for index in range(buyers)]
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            ordered: Counter[int] = Counter()
            lock = threading.Lock()
            deadline = time.monotonic() + seconds

            def buy(token_and_address: tuple[str, int]) -> None:
                token, address_id = token_and_address
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                    while time.monotonic() < deadline:
                        client.delete("/api/v1/cart")
                        product_id = random.choice(hot_ids)
                        added = client.post("/api/v1/cart/items", json={"product_id": product_id,
                                                                        "quantity": random.randint(1, 3)})
                        if added.status_code != 201:
                            with lock:
                                statuses[added.status_code] += 1
                            if added.status_code >= 500:
                                continue
                            if all_sold_out(client):
                                return
                            continue
                        started = time.perf_counter()
                        response = client.post("/api/v1/orders", json={"address_id": address_id},
                                               headers={"Idempotency-Key": uuid.uuid4().hex})
                        elapsed = (time.perf_counter() - started) * 1000
                        with lock:
                            latencies.append(elapsed)
                            statuses[response.status_code] += 1
                            if response.status_code == 201:
                                for line in response.json()["items"]:
                                    ordered[line["product_id"]] += line["quantity"]

            def all_sold_out(client: httpx.Client) -> bool:
                return all(client.get(f"{PRODUCTS}/{product_id}").json()["stock"] == 0 for product_id in hot_ids)

            with ThreadPoolExecutor(max_workers=buyers) as pool:
                list(pool.map(buy, tokens))
            with httpx.Client(base_url=url, timeout=30) as client:
                remaining = {product_id: client.get(f"{PRODUCTS}/{product_id}").json()["stock"]
                             for product_id in hot_ids}
        oversold = sum(max(0, ordered[p] - stock) for p in hot_ids)
        inconsistent = sum(1 for p in hot_ids if remaining[p] != stock - ordered[p])
        server_errors = sum(count for status, count in statuses.items() if status >= 500 or status == 0)
        p50 = median(latencies)
        limit = 4 * self.detail_p50_32
        self.report.add(
            "checkout: 32 buyers of 5 hot products",
            f"{len(latencies)} checkouts, p50 {p50:.1f} ms (detail p50 {self.detail_p50_32:.1f} ms); answers "
            f"{dict(sorted(statuses.items()))}; {sum(ordered.values())} units sold of {hot * stock}; oversold "
            f"{oversold}; stock off by {inconsistent} products; 5xx {server_errors}",
            "p50 <= 4 x detail p50, zero oversell, zero 5xx",
            p50 <= limit and oversold == 0 and inconsistent == 0 and server_errors == 0)

    def _buyer(self, url: str, index: int) -> tuple[str, int]:
        email = f"buyer{index}-{self.run_id}@example.com"
        password = f"Buyer-{self.run_id}-Passw0rd!"
        httpx.post(f"{url}/api/v1/auth/register", json={"email": email, "password": password, "name": "Buyer"},
                   timeout=30).raise_for_status()
        token = servers.login(url, email, password)
        address = httpx.post(f"{url}/api/v1/users/me/addresses", headers={"Authorization": f"Bearer {token}"},
                             json={"full_name": "Buyer", "street": "1 Load Street", "city": "Springfield",
                                   "state": "IL", "zip_code": "62701", "country": "US", "phone": "+15550100"},
                             timeout=30)
        address.raise_for_status()
        return token, address.json()["id"]

    def server_settings(self) -> None:
        """The figures behind config/gunicorn.py and the database connection setting."""
        print("Server settings: gunicorn workers x threads, database connections", flush=True)
        detail_paths = [f"{PRODUCTS}/{product_id}" for product_id in self.detail_ids]
        for workers, threads in ((2, 4), (3, 4), (3, 8), (5, 2)):
            deployment = self._variant({"GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads)})
            with servers.running(deployment):
                self.load(deployment.url(), [PRODUCTS], seconds=2)
                cached = self.load(deployment.url(), [PRODUCTS])
            self.report.add(f"gunicorn {workers} workers x {threads} threads: cached list", cached.describe())
        for label, extra in (("persistent connections, checked before reuse", {"DATABASE_POOL_MAX_SIZE": "0"}),
                             ("a psycopg pool of 4 per process", {"DATABASE_POOL_MAX_SIZE": "4"})):
            deployment = self._variant({**extra, "ECOMMERCE_CATALOG_CACHE_SECONDS": "0"})
            with servers.running(deployment):
                self.load(deployment.url(), detail_paths, seconds=2)
                uncached = self.load(deployment.url(), detail_paths)
            self.report.add(f"database {label}: uncached detail", uncached.describe())

    def _variant(self, env: dict[str, str]) -> servers.BenchDeployment:
        """The monolith's database served with other settings."""
        base = self.deployments[0]
        return servers.BenchDeployment(roles=base.roles, ports={MONOLITH: 0}, databases=base.databases,
                                       postgres_url=base.postgres_url, env={**base.env, **env}, log_dir=self.log_dir)

    def memory_soak(self, monolith) -> None:
        minutes = self.options.soak_minutes
        print(f"Worker memory under {minutes:g} minutes of mixed reads", flush=True)
        paths = ([PRODUCTS, SEARCH, FILTERED, DEEP, f"{PRODUCTS}?ordering=price", f"{PRODUCTS}?category=2"]
                 + [f"{PRODUCTS}/{product_id}" for product_id in self.detail_ids]
                 + [f"{PRODUCTS}?page={page}" for page in range(1, min(300, self.options.products // 20))])
        samples: list[tuple[float, float]] = []
        with servers.running(monolith):
            master = monolith.processes[MONOLITH].popen.pid
            done = threading.Event()

            def sample() -> None:
                started = time.monotonic()
                while not done.wait(5.0):
                    sizes = [servers.rss_mib(pid) for pid in servers.worker_pids(master)]
                    samples.append(((time.monotonic() - started) / 60, sum(s for s in sizes if s is not None)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = self.load(monolith.url(), paths, seconds=minutes * 60, one_run=True)  # load held throughout
            done.set()
            sampler.join()
        settled = samples[len(samples) // 5:]  # the first fifth is warm-up: imports, caches, pools
        slope = _slope(settled)
        growth = slope * minutes
        mean = statistics.fmean(size for _, size in settled)
        no_trend = growth <= max(2.0, 0.02 * mean)
        self.report.add(
            f"worker RSS over {minutes:g} minutes of mixed reads",
            f"{result.describe()}, {result.errors} errors; all workers {settled[0][1]:.0f} -> {settled[-1][1]:.0f} "
            f"MiB; trend {slope:+.2f} MiB/min ({growth:+.1f} MiB over the run, {len(samples)} samples)",
            "no growth trend", no_trend and result.errors == 0)


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    if len(points) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(f"{servers.postgres_admin_url()}/postgres") as connection:
            return connection.execute("SHOW server_version").fetchone()[0].split()[0]
    except Exception:  # noqa: BLE001 - only for the report's header
        return "?"


def write_results(harness: Harness, started: float, path: Path) -> None:
    options = harness.options
    rows = harness.report.rows
    met = sum(1 for row in rows if row.met)
    judged = sum(1 for row in rows if row.met is not None)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M %Z')}; the whole run took "
        f"{(time.monotonic() - started) / 60:.1f} minutes.",
        "",
        f"- Machine: {machine()}.",
        f"- Services: PostgreSQL {postgres_version()}, Redis, both on this machine; the load generator (wrk) too.",
        f"- Load average (1 min) at the start and the end of the run: {harness.load_at_start:.1f} and "
        f"{os.getloadavg()[0]:.1f}; anything well above 0 means other work shared the cores and every figure is "
        "noisier and lower than on a quiet machine (ratios measured in the same run still compare).",
        f"- Servers: {gunicorn_settings()}; DEBUG off; throttles on but raised out of the way.",
        f"- Data: {options.products:,} products (split: {options.split_products:,}); wrk -t2 -c{options.connections} "
        f"for {options.seconds:g} s per figure after a 2 s warm-up, {options.rounds} rounds with the floor and the "
        "shop alternating, medians shown. Each figure is the median of 2 s runs that open fresh connections: a "
        "gunicorn worker keeps every keep-alive connection it accepted, and one long run can deal most of them to "
        "one worker (one core) by chance; the memory soak is one run throughout.",
        "- Cold means the first read after a catalog change (nothing of it cached); cached means the same read again.",
        "",
        f"Targets met: {met} of {judged}.",
        "",
        "| measure | figures | target | met |",
        "|---|---|---|---|",
        *[f"| {row.measure} | {row.figures} | {row.target} | "
          f"{'' if row.met is None else ('yes' if row.met else '**no**')} |" for row in rows],
        "",
    ]
    if harness.report.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in harness.report.notes], ""]
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000, help="catalog size of the monolith rows")
    parser.add_argument("--split-products", type=int, default=20_000, help="catalog size of the split deployment")
    parser.add_argument("--seconds", type=float, default=10, help="length of one wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections of the throughput rows")
    parser.add_argument("--rounds", type=int, default=3, help="floor/shop alternations of the throughput rows")
    parser.add_argument("--split-rounds", type=int, default=2, help="monolith/split alternations")
    parser.add_argument("--samples", type=int, default=40, help="requests per single-request latency figure")
    parser.add_argument("--freeze-seconds", type=float, default=20, help="how long the products role is frozen")
    parser.add_argument("--storm-seconds", type=float, default=20, help="length of the checkout storm")
    parser.add_argument("--storm-stock", type=int, default=300, help="stock of each hot product")
    parser.add_argument("--soak-minutes", type=float, default=10, help="length of the memory soak")
    parser.add_argument("--only", default="",
                        help="comma-separated rows: floor,latency,storm,split,frozen,settings,soak")
    parser.add_argument("--quick", action="store_true",
                        help="development run: small catalog, short runs, 1-minute soak")
    parser.add_argument("--keep-databases", action="store_true", help="leave the benchmark databases in place")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.md")
    options = parser.parse_args(argv)
    if options.quick:
        options.products, options.split_products = min(options.products, 20_000), min(options.split_products, 5_000)
        options.seconds, options.rounds, options.split_rounds, options.samples = 5, 1, 1, 15
        options.freeze_seconds, options.storm_seconds, options.soak_minutes = 10, 10, 1
    require_wrk()
    only = {name.strip() for name in options.only.split(",") if name.strip()}

    def wanted(name: str) -> bool:
        return not only or name in only

    started = time.monotonic()
    harness = Harness(options)
    print(f"Benchmark run {harness.run_id}: logs in {harness.log_dir}", flush=True)
    try:
        monolith = harness.deployment(MONOLITH, products=options.products)
        with servers.running(monolith):
            harness.prepare_shop_data(monolith.url())
        steps: list[tuple[str, Callable[[], None]]] = [
            ("floor", lambda: harness.throughput_against_floor(monolith)),
            ("latency", lambda: harness.single_request_latency(monolith)),
            ("storm", lambda: harness.checkout_storm(monolith)),
        ]
        if wanted("split") or wanted("frozen"):
            split = harness.deployment("split", products=options.split_products)
            with servers.running(split):
                harness.prepare_split(split.url())
            steps += [("split", lambda: harness.split_against_monolith(monolith, split)),
                      ("frozen", lambda: harness.frozen_role(split))]
        steps.append(("settings", harness.server_settings))
        steps.append(("soak", lambda: harness.memory_soak(monolith)))
        for name, step in steps:
            if wanted(name):
                try:
                    step()
                except (RuntimeError, httpx.HTTPError, subprocess.SubprocessError, KeyError) as error:
                    harness.report.add(f"{name} row", f"could not be measured: {error}", "", False)
    finally:
        harness.cleanup()
    write_results(harness, started, options.output)


if __name__ == "__main__":
    main()
