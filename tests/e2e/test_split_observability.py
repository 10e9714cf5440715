"""What an operator of the split deployment sees, read from its real processes: one checkout is one trace across
the gateway and the roles it calls; the JSON log lines of that request name it; ``/metrics`` of each role has the
families the dashboards and alerts use."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scripts.deployment import Deployment
from tests.e2e.conftest import METRICS_TOKEN, Customer, Shop, eventually

pytestmark = pytest.mark.e2e


def _json_lines(deployment: Deployment, role: str) -> list[dict[str, Any]]:
    process = deployment.processes[role]
    assert process.log_path is not None
    lines = []
    for raw in process.log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return lines


def _spans(deployment: Deployment, role: str) -> list[dict[str, Any]]:
    """The spans the role exported to its standard output (ECOMMERCE_TRACING_EXPORTER=console)."""
    return [line for line in _json_lines(deployment, role) if "context" in line and "resource" in line]


def _checkout(customer: Customer, product_id: int, request_id: str) -> httpx.Response:
    added = customer.api.post("/cart/items", json={"product_id": product_id, "quantity": 1})
    assert added.status_code == 201, added.text
    return customer.api.post("/orders", json={"address_id": customer.address_id},  # type: ignore[attr-defined]
                             headers={"Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": request_id})


def test_a_checkout_is_one_trace_across_gateway_and_roles(split_shop: Shop, split_customer: Callable[[], Customer],
                                                           split_product: Callable[..., dict[str, Any]]) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    customer = split_customer()
    product = split_product(stock=5)
    request_id = f"trace-{uuid.uuid4().hex}"

    order = _checkout(customer, product["id"], request_id)

    assert order.status_code == 201, order.text
    found: dict[str, list[dict[str, Any]]] = {}

    def traced_everywhere() -> bool:
        gateway_spans = [span for span in _spans(deployment, "gateway")
                         if span["attributes"].get("shop.request_id") == request_id]
        if not gateway_spans:
            return False
        trace_id = gateway_spans[0]["context"]["trace_id"]
        for role in ("gateway", "orders", "carts", "products"):
            found[role] = [span for span in _spans(deployment, role) if span["context"]["trace_id"] == trace_id]
        return all(found.values())

    assert eventually(traced_everywhere, timeout=15), {role: len(spans) for role, spans in found.items()}
    services = {role: {span["resource"]["attributes"]["service.name"] for span in spans}
                for role, spans in found.items()}
    assert services == {role: {f"shop-{role}"} for role in ("gateway", "orders", "carts", "products")}
    # One root: the gateway's server span; every span of the roles hangs under a span of the same trace.
    all_spans = [span for spans in found.values() for span in spans]
    ids = {span["context"]["span_id"] for span in all_spans}
    roots = [span for span in all_spans if span["parent_id"] is None]
    assert [root["resource"]["attributes"]["service.name"] for root in roots] == ["shop-gateway"]
    assert all(span["parent_id"] in ids for span in all_spans if span["parent_id"] is not None)
    # The roles' server spans carry the same request id, passed on with every internal call.
    role_servers = [span for role in ("orders", "carts", "products") for span in found[role]
                    if span["kind"] == "SpanKind.SERVER"]
    assert role_servers
    assert {span["attributes"].get("shop.request_id") for span in role_servers} == {request_id}
    # The gateway's contract calls are spans of their own, and SQL statements are traced in the roles.
    assert any(span["name"].startswith("rpc orders.") for span in found["gateway"])
    assert any(span["attributes"].get("db.system.name") == "postgresql" for span in found["orders"])


def test_the_request_line_of_a_checkout_names_request_trace_caller_route_status_and_duration(
        split_shop: Shop, split_customer: Callable[[], Customer],
        split_product: Callable[..., dict[str, Any]]) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    customer = split_customer()
    product = split_product(stock=5)
    request_id = f"log-{uuid.uuid4().hex}"

    order = _checkout(customer, product["id"], request_id)

    assert order.status_code == 201, order.text
    lines: list[dict[str, Any]] = []

    def logged() -> bool:
        lines[:] = [line for line in _json_lines(deployment, "gateway")
                    if line.get("logger") == "ecommerce.request" and line.get("request_id") == request_id]
        return bool(lines)

    assert eventually(logged, timeout=10)
    [line] = lines
    assert line["service"] == "shop-gateway"
    assert line["user_id"] == customer.id
    assert line["user_role"] == "customer"
    assert line["route"] == "api/v1/orders"
    assert line["method"] == "POST"
    assert line["status"] == 201
    assert line["duration_ms"] > 0
    assert len(line["trace_id"]) == 32
    assert line["level"] == "INFO"
    # The orders role logged its part of the same request under the same request and trace ids.
    role_lines = [entry for entry in _json_lines(deployment, "orders")
                  if entry.get("logger") == "ecommerce.request" and entry.get("request_id") == request_id]
    assert role_lines
    assert {entry["trace_id"] for entry in role_lines} == {line["trace_id"]}
    assert all(entry["route"].startswith("internal/rpc/") for entry in role_lines)


# The families each role's dashboards and alerts use, besides django-prometheus's requests by route (families with
# labels and nothing counted yet, such as failures or dead letters, have no samples to find).
_ROLE_FAMILIES = {
    "gateway": ["shop_rpc_client_seconds_bucket", "shop_rpc_client_seconds_count"],
    "orders": ["shop_rpc_client_seconds_bucket", "shop_outbox_pending_events", "shop_outbox_oldest_pending_seconds"],
    "products": ["shop_stock_outs_total", "shop_stock_refusals_total", "shop_products_out_of_stock",
                 "shop_outbox_pending_events"],
    "carts": ["shop_outbox_pending_events", "shop_outbox_oldest_pending_seconds"],
    "users": ["shop_outbox_pending_events", "shop_outbox_oldest_pending_seconds"],
}


@pytest.mark.parametrize("role", sorted(_ROLE_FAMILIES))
def test_metrics_of_every_role_need_the_token_and_hold_its_families(
        split_shop: Shop, split_customer: Callable[[], Customer], split_product: Callable[..., dict[str, Any]],
        role: str) -> None:
    deployment = split_shop.deployment
    assert deployment is not None
    customer = split_customer()
    # A checkout makes the gateway and the orders role call out, so their call histograms have samples.
    assert _checkout(customer, split_product(stock=5)["id"], f"metrics-{uuid.uuid4().hex}").status_code == 201

    refused = httpx.get(f"{deployment.url(role)}/metrics", timeout=10)
    scraped = httpx.get(f"{deployment.url(role)}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                        timeout=10)

    assert refused.status_code == 401
    assert scraped.status_code == 200
    families = {line.split("{")[0].split(" ")[0] for line in scraped.text.splitlines() if not line.startswith("#")}
    expected = ["django_http_requests_latency_seconds_by_view_method_bucket", *_ROLE_FAMILIES[role]]
    assert [family for family in expected if family not in families] == []
