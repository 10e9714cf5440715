"""The end-to-end suite drives the shop over HTTP only, against real server processes, in both deployment modes.

The servers, the ``shop`` fixture and the journeys' helpers live in ``tests.support.live_shop`` (the browser suite
drives the same servers); its docstring says how to point the suite at a server of your own. The names the journeys
import from here are re-exported below; fixtures are not (the root ``conftest.py`` registers them once, so both
suites share one deployment per mode)."""

from tests.support.live_shop import (
    METRICS_TOKEN,
    REFRESH_REUSE_GRACE_SECONDS,
    RPC_TIMEOUT_SECONDS,
    SERVER_ENV,
    USER_PASSWORD,
    Customer,
    Shop,
    assert_problem,
    eventually,
    mails_to,
    needs_shared_cache,
    text_of,
    unique_email,
)

__all__ = [
    "METRICS_TOKEN", "REFRESH_REUSE_GRACE_SECONDS", "RPC_TIMEOUT_SECONDS",
    "SERVER_ENV", "USER_PASSWORD", "Customer", "Shop", "assert_problem", "eventually", "mails_to",
    "needs_shared_cache", "text_of", "unique_email",
]
