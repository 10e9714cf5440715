"""``@pytest.mark.postgres`` means what it says: on another database the test is skipped with the reason shown, and
with ``ECOMMERCE_REQUIRE_SERVICES=1`` it fails, so a run that should prove a PostgreSQL behaviour cannot pass by
skipping it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKED_TEST = "apps/products/tests/test_selectors.py::test_search_indexes_exist_on_postgresql"


def run_marked_test_on_sqlite(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "ECOMMERCE_REQUIRE_SERVICES", "PYTEST_ADDOPTS"}}
    env.update(environment)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", MARKED_TEST],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_a_postgres_test_is_skipped_with_its_reason_on_sqlite() -> None:
    result = run_marked_test_on_sqlite()

    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 skipped" in result.stdout
    assert "needs PostgreSQL" in result.stdout


def test_a_postgres_test_fails_on_sqlite_when_services_are_required() -> None:
    result = run_marked_test_on_sqlite(ECOMMERCE_REQUIRE_SERVICES="1")

    assert result.returncode == 1, result.stdout[-2000:]
    assert "ECOMMERCE_REQUIRE_SERVICES=1 but this test needs PostgreSQL" in result.stdout
