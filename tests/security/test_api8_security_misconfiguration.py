"""API8:2023 Security misconfiguration, on every operation of the table (``endpoints.py``): each answer, success or
refusal, carries the browser-hardening headers and a request id, an error is problem details with nothing of the
server's insides in it, and a method an endpoint does not serve is a 405 problem naming the ones it does."""

from __future__ import annotations

import pytest

from tests.security.endpoints import ENDPOINTS, Audience, caller, send
from tests.security.inventory import urlconf_operations
from tests.security.world import ANONYMOUS

pytestmark = pytest.mark.django_db

OPERATIONS = sorted(ENDPOINTS)
LEAKS = ("Traceback", "File \"", "psycopg", "SELECT ", "django.", "/work", "site-packages")


def _paths() -> dict[str, set[str]]:
    methods: dict[str, set[str]] = {}
    for operation in urlconf_operations():
        method, path = operation.split(" ", 1)
        methods.setdefault(path, set()).add(method)
    return methods


def _unserved(path: str) -> str:
    return next(method for method in ("PUT", "PATCH", "DELETE", "POST", "GET") if method not in _paths()[path])


@pytest.mark.parametrize("who", ["audience", ANONYMOUS])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_answer_is_hardened_and_tells_nothing_of_the_server(world, operation, who) -> None:
    client = caller(world, operation) if who == "audience" else world.client(ANONYMOUS)

    response = send(client, operation, ENDPOINTS[operation].call(world))

    assert response.status_code < 500, response.content
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response.has_header("Referrer-Policy")
    assert response.has_header("X-Request-ID")
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert not [leak for leak in LEAKS if leak in response.content.decode()], response.content


@pytest.mark.parametrize("path", sorted(path for path in _paths() if len(_paths()[path]) < 5))
def test_a_method_the_endpoint_does_not_serve_is_a_405_problem(world, path) -> None:
    operation = next(op for op in OPERATIONS if op.endswith(f" {path}"))
    call = ENDPOINTS[operation].call(world)
    method = _unserved(path)
    client = world.client(Audience.ADMIN.value)

    response = getattr(client, method.lower())(call.path, {}, format="json")

    assert response.status_code == 405, (method, path, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert set(response["Allow"].replace(" ", "").split(",")) >= _paths()[path]
