"""The end-to-end suite drives the shop over HTTP only, against real server processes, in both deployment modes.

The servers, the ``shop`` fixture and the journeys' helpers live in ``tests.support.live_shop`` (the browser suite
drives the same servers); its docstring says how to point the suite at a server of your own. The names the journeys
import from here are re-exported below. The deployment fixtures (``shop``, ``split_shop``) are registered once by the
root ``conftest.py``, so both suites share one deployment per mode; the journeys' fixtures are imported here."""

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
from tests.support.live_shop_fixtures import (
    address_of,
    admin,
    anonymous,
    catalog_staff,
    customer,
    make_product,
    new_customer,
    order_staff,
)

__all__ = [
    "METRICS_TOKEN",
    "REFRESH_REUSE_GRACE_SECONDS",
    "RPC_TIMEOUT_SECONDS",
    "SERVER_ENV",
    "USER_PASSWORD",
    "Customer",
    "Shop",
    "address_of",
    "admin",
    "anonymous",
    "assert_problem",
    "catalog_staff",
    "customer",
    "eventually",
    "mails_to",
    "make_product",
    "needs_shared_cache",
    "new_customer",
    "order_staff",
    "text_of",
    "unique_email",
]
