"""API9:2023 Improper inventory management. The suite's table of endpoints (``endpoints.py``), the URLconf and the
OpenAPI document name the same operations: nothing is served undocumented, nothing documented is gone, and no
endpoint escapes the security suite because nobody added it to the table."""

from __future__ import annotations

from tests.security.endpoints import ENDPOINTS
from tests.security.inventory import schema_operations, urlconf_operations


def test_every_routed_operation_is_in_the_security_table() -> None:
    missing = sorted(urlconf_operations() - set(ENDPOINTS))

    assert not missing, f"add these operations to tests/security/endpoints.py (see its docstring): {missing}"


def test_the_security_table_names_no_operation_that_is_gone() -> None:
    assert not sorted(set(ENDPOINTS) - urlconf_operations())


def test_the_openapi_document_describes_exactly_the_routed_operations() -> None:
    assert set(schema_operations()) == urlconf_operations()
