"""One module decides the deployment: who owns each service, what is served here, where the others are; and every
cache built from those answers is forgotten as soon as they change."""

from __future__ import annotations

import pytest

from config import roles
from ecommerce import deployment, tracing
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.products import products_service
from ecommerce.rpc.client import RemoteService
from ecommerce.rpc.transport import HttpTransport, LoopbackTransport, get_transport
from scripts.deployment import Deployment

URLS = {"users": "http://127.0.0.1:9001", "products": "http://127.0.0.1:9002", "carts": "http://127.0.0.1:9003",
        "orders": "http://127.0.0.1:9004"}


@pytest.fixture
def split_products_role(settings):
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "products"
    settings.ECOMMERCE_SERVICE_URLS = URLS
    settings.ECOMMERCE_RPC_LOOPBACK = False
    return settings


def test_the_monolith_owns_and_serves_every_service_whatever_role_is_set(settings) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "monolith"
    settings.ECOMMERCE_SERVICE_ROLE = "carts"
    settings.ECOMMERCE_RPC_LOOPBACK = False

    assert deployment.process_role() == "monolith"
    assert all(deployment.owns(s) and deployment.serves_locally(s) for s in deployment.SERVICE_OWNERS)


def test_loopback_sends_every_call_over_rpc_to_an_endpoint_that_still_owns_it(settings) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "monolith"
    settings.ECOMMERCE_RPC_LOOPBACK = True

    assert not deployment.serves_locally("orders")
    assert deployment.owns("orders")


def test_a_split_role_owns_only_its_own_service_and_calls_the_others_at_their_urls(split_products_role) -> None:
    assert deployment.process_role() == "products"
    assert [s for s in deployment.SERVICE_OWNERS if deployment.owns(s)] == ["products"]
    assert deployment.serves_locally("products")
    assert not deployment.serves_locally("carts")
    assert deployment.service_url("carts") == URLS["carts"]
    assert deployment.service_url("warehouse") is None
    assert list(deployment.peer_urls()) == ["carts", "orders", "users"]


def test_the_gateway_owns_nothing(split_products_role) -> None:
    split_products_role.ECOMMERCE_SERVICE_ROLE = "gateway"

    assert not any(deployment.owns(s) for s in deployment.SERVICE_OWNERS)
    assert deployment.services_owned_by("gateway") == ()
    assert deployment.services_owned_by("orders") == ("orders",)


def test_the_role_list_is_the_deployment_modules_everywhere() -> None:
    assert roles.ROLES is deployment.ROLES
    assert roles.DOMAIN_ROLES is deployment.DOMAIN_ROLES
    assert Deployment.split(base_port=30000).roles == deployment.ROLES
    assert set(deployment.SERVICE_OWNERS.values()) == set(deployment.DOMAIN_ROLES)


def test_a_launched_role_is_placed_by_the_same_variables_the_settings_read() -> None:
    split = Deployment.split(base_port=30000)

    env = split.role_env("carts")

    assert (env["ECOMMERCE_DEPLOYMENT_MODE"], env["ECOMMERCE_SERVICE_ROLE"]) == ("split", "carts")
    assert env["ECOMMERCE_SERVICE_URLS"] == ("users=http://127.0.0.1:30001,products=http://127.0.0.1:30002,"
                                             "carts=http://127.0.0.1:30003,orders=http://127.0.0.1:30004")


def test_tracing_names_each_process_by_its_role(settings) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "monolith"
    assert tracing.service_name() == "shop-monolith"

    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "orders"
    assert tracing.service_name() == "shop-orders"


def test_delegators_resolve_again_when_the_deployment_changes(split_products_role) -> None:
    # given a products role, where products is local and carts is remote
    assert not isinstance(products_service._resolve(), RemoteService)
    assert isinstance(carts_service._resolve(), RemoteService)

    # when the same process is told it is the carts role
    split_products_role.ECOMMERCE_SERVICE_ROLE = "carts"

    # then both answers changed, with no explicit reset
    assert isinstance(products_service._resolve(), RemoteService)
    assert not isinstance(carts_service._resolve(), RemoteService)


def test_transports_are_forgotten_and_closed_when_an_address_changes(split_products_role) -> None:
    # given a pooled transport to the carts role
    before = get_transport("carts")
    assert isinstance(before, HttpTransport)
    assert get_transport("carts") is before
    assert str(before.client.base_url) == URLS["carts"]

    # when the carts role moves
    split_products_role.ECOMMERCE_SERVICE_URLS = {**URLS, "carts": "http://127.0.0.1:9903"}

    # then the old transport is closed and a new one goes to the new address
    after = get_transport("carts")
    assert after is not before
    assert before.client.is_closed
    assert str(after.client.base_url) == "http://127.0.0.1:9903"


def test_loopback_mode_uses_the_loopback_transport(split_products_role) -> None:
    split_products_role.ECOMMERCE_RPC_LOOPBACK = True

    assert isinstance(get_transport("carts"), LoopbackTransport)


def test_clear_caches_forgets_every_registered_cache(split_products_role) -> None:
    resolved = products_service._resolve()
    transport = get_transport("carts")

    deployment.clear_caches()

    assert products_service._target is None
    assert products_service._resolve() is not resolved
    assert get_transport("carts") is not transport
