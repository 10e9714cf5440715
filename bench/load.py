"""Load generation: wrk for throughput and latency under concurrency, plain sequential requests for the latency
of one request alone, and a few Python threads where the harness must look at every answer."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

WRK_INSTALL_HINT = "wrk is missing: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`."


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit(WRK_INSTALL_HINT)
    return path


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    def describe(self) -> str:
        return f"{self.requests_per_second:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


# Picks one of the given paths per request (wrk's Lua hooks), so a row can spread over many products.
_PATHS_SCRIPT = """
local paths = {%s}
local headers = {%s}
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
"""


def wrk(base_url: str, paths: list[str], *, seconds: float, connections: int, threads: int = 2,
        headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> WrkResult:
    """Load ``paths`` (picked at random per request) for ``seconds`` with ``connections`` open connections."""
    lua_paths = ", ".join(f'"{path}"' for path in paths)
    lua_headers = ", ".join(f'["{name}"] = "{value}"' for name, value in (headers or {}).items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_PATHS_SCRIPT % (lua_paths, lua_headers))
    try:
        output = subprocess.run(
            [require_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--timeout", f"{timeout_s:.0f}s", "--latency", "-s", script.name, base_url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    return parse_wrk(output)


def wrk_runs(base_url: str, paths: list[str], *, seconds: float, connections: int, run_seconds: float = 2.0,
             headers: dict[str, str] | None = None) -> WrkResult:
    """``wrk`` for ``seconds`` in runs of ``run_seconds``, each with fresh connections; the median run's figures.

    A gthread worker accepts whatever connections it can and keeps a keep-alive connection to the end, so the 32
    connections one wrk run opens at once can land mostly on one of the workers. That worker then serves nearly
    all the load on one core while the others idle, and the run measures a third of the server's capacity, at
    random, for the floor and the shop alike. Many short runs, each dealt anew, and their median keep one unlucky
    deal from deciding a figure."""
    count = max(1, round(seconds / run_seconds))
    runs = [wrk(base_url, paths, seconds=seconds / count, connections=connections, headers=headers)
            for _ in range(count)]
    return WrkResult(requests_per_second=statistics.median(run.requests_per_second for run in runs),
                     p50_ms=statistics.median(run.p50_ms for run in runs),
                     p99_ms=statistics.median(run.p99_ms for run in runs),
                     requests=sum(run.requests for run in runs), errors=sum(run.errors for run in runs))


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return WrkResult(requests_per_second=rps, p50_ms=p50, p99_ms=p99, requests=requests, errors=errors)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    samples: int

    def describe(self) -> str:
        return f"p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms ({self.samples} requests)"


def sequential(client: httpx.Client, paths: list[str], *, before_each=None) -> Latency:
    """One request at a time, each timed alone; ``before_each()`` runs untimed before every request (to make it
    miss a cache, for example). Every answer must be 200."""
    samples = []
    for path in paths:
        if before_each is not None:
            before_each()
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return Latency(p50_ms=statistics.median(samples), p95_ms=percentile(samples, 0.95), samples=len(samples))
