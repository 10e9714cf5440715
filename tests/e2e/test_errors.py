"""Conventions every answer keeps, in both modes: problem details, request ids, no internals in errors, health."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import METRICS_TOKEN, Shop, assert_problem

pytestmark = pytest.mark.e2e


def test_unknown_paths_and_bad_tokens_are_problem_details(shop: Shop, anonymous: httpx.Client) -> None:
    with shop.client("not-a-jwt") as forged:
        bad_token = forged.get("/users/me")

    assert_problem(anonymous.get("/no-such-thing"), 404, "not_found")
    assert_problem(anonymous.get("/users/me"), 401, "not_authenticated")
    assert_problem(bad_token, 401)
    assert_problem(anonymous.post("/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}),
                   400)


def test_request_id_is_echoed_or_made(anonymous: httpx.Client) -> None:
    echoed = anonymous.get("/products", headers={"X-Request-ID": "e2e-request-42"})
    made = anonymous.get("/products")

    assert echoed.headers["X-Request-ID"] == "e2e-request-42"
    assert len(made.headers["X-Request-ID"]) >= 32


def test_health_readiness_schema_and_docs(shop: Shop) -> None:
    with httpx.Client(base_url=shop.base_url, timeout=10) as root:
        assert root.get("/healthz").status_code == 200
        ready = root.get("/readyz")
        schema = root.get("/api/schema/")
        docs = root.get("/api/docs/")
        metrics = root.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        anonymous_metrics = root.get("/metrics")
        internal = root.post("/internal/rpc/users/user_update", content=b"{}",
                             headers={"Content-Type": "application/json"})

    assert ready.status_code == 200, ready.text
    assert schema.status_code == 200
    assert b"/api/v1/orders" in schema.content
    assert b"/internal" not in schema.content
    assert docs.status_code == 200
    if shop.mode != "external":  # the suite's own servers know the scraper's token
        assert metrics.status_code == 200
        assert b"django_http_requests" in metrics.content
    assert anonymous_metrics.status_code in {401, 404}  # never public: 404 where no token is configured
    assert_problem(internal, 404, "not_found")  # the public entry never routes the internal endpoint


def test_the_docs_page_and_every_asset_it_loads_come_from_the_public_entry(shop: Shop) -> None:
    with httpx.Client(base_url=shop.base_url, timeout=10) as root:
        page = root.get("/api/docs/").text
        assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
        answers = {url: root.get(url) for url in assets}

    assert len(assets) >= 4, page
    assert [url for url in assets if not url.startswith("/static/")] == []
    assert {url: answer.status_code for url, answer in answers.items()} == dict.fromkeys(assets, 200)
    assert all(answer.content for answer in answers.values())
