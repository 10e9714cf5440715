"""What a test needs from outside this process (PostgreSQL, RabbitMQ, a server to start), decided in one place.

A test whose service is missing is skipped with the reason shown, so a bare laptop still runs the rest; with
``ECOMMERCE_REQUIRE_SERVICES=1`` (CI) it fails instead, so a misconfigured run can never pass by skipping."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_SERVICES = os.environ.get("ECOMMERCE_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> NoReturn:
    """Skip the current test (or fixture) for ``reason``, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"ECOMMERCE_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)
