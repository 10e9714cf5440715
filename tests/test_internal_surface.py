"""The internal RPC endpoint is a door guarded by one shared secret, so it exists only where a domain role serves it:
never in the monolith, never on the gateway, never behind the public ingress. A forged call to the monolith, even one
signed correctly, finds nothing there and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from config.settings.safety import DEVELOPMENT_INTERNAL_TOKEN
from ecommerce.contracts.users import users_service
from ecommerce.roles import Role
from ecommerce.rpc import signing
from ecommerce.rpc.endpoint import rpc_endpoint
from ecommerce.rpc.transport import rpc_path
from tests.urlconf import routes

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_COMPONENTS = {"users", "products", "carts", "orders"}


def _signed_with(secret: str, path: str, body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    message = b"\n".join([b"POST", path.encode(), timestamp.encode(), nonce.encode(), body])
    return {signing.TIMESTAMP_HEADER: timestamp, signing.NONCE_HEADER: nonce,
            signing.SIGNATURE_HEADER: hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}


@pytest.mark.django_db
@pytest.mark.parametrize("secret", ["public development default", "this process's own token"])
def test_a_forged_role_change_sent_to_the_monolith_is_404_and_changes_nothing(make_user, settings, secret) -> None:
    customer = make_user(Role.CUSTOMER)
    path = rpc_path("users", "user_update")
    body = json.dumps({"user_id": customer.id, "changes": {"role": "admin"}}).encode()
    key = DEVELOPMENT_INTERNAL_TOKEN if secret.startswith("public") else settings.INTERNAL_AUTH_TOKEN

    response = Client().post(path, data=body, content_type="application/json", headers=_signed_with(key, path, body))

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
    assert users_service.user_get(user_id=customer.id).role == Role.CUSTOMER


@pytest.mark.parametrize("urlconf", ["config.urls", "config.urls_gateway"])
def test_no_public_urlconf_routes_the_internal_endpoint(urlconf: str) -> None:
    served = routes(urlconf)

    assert served, "the URLconf could not be walked"
    assert not [route.pattern for route in served if route.callback is rpc_endpoint or "internal" in route.pattern]


def test_a_domain_role_routes_the_internal_endpoint(settings) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "products"

    served = routes("config.urls_service")

    assert [route.pattern for route in served if route.callback is rpc_endpoint] == [
        "internal/rpc/<str:service>/<str:method>"]


# --- the manifests of a split deployment --------------------------------------------------------------------------
def _manifests() -> list[dict[str, Any]]:
    documents = []
    for manifest in sorted((ROOT / "k8s").glob("*.yaml")):
        documents += [document for document in yaml.safe_load_all(manifest.read_text()) if document]
    return documents


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for document in _manifests() if document["kind"] == kind]


def test_the_public_ingress_routes_only_the_gateways_public_paths() -> None:
    ingresses = _of_kind("Ingress")
    assert ingresses

    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for route in rule["http"]["paths"]:
                assert route["backend"]["service"]["name"] == "gateway", route
                assert route["path"].startswith("/api"), route
        assert "defaultBackend" not in ingress["spec"]


def test_only_the_gateway_is_reachable_from_outside_the_namespace_and_roles_only_from_inside() -> None:
    policies = _of_kind("NetworkPolicy")
    default_deny = [p for p in policies if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]]
    assert default_deny, "no default-deny policy"

    for policy in policies:
        selected = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        for allowed in policy["spec"].get("ingress", []):
            for source in allowed["from"]:
                outside = source.get("namespaceSelector", {}).get("matchLabels", {}).get(
                    "kubernetes.io/metadata.name")
                if outside == "ingress-nginx":
                    assert selected == "gateway", policy["metadata"]["name"]
                elif outside is not None:
                    # Only the metrics scraper comes from another namespace, and only to the HTTP port.
                    assert outside == "monitoring", policy["metadata"]["name"]
                else:
                    assert "podSelector" in source, policy["metadata"]["name"]
    for service in _of_kind("Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]


def test_a_role_compose_service_publishes_no_port() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.split.yml").read_text())

    published = {name for name, service in compose["services"].items() if service.get("ports")}

    assert published == {"gateway"}
