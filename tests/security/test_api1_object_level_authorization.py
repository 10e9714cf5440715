"""API1:2023 Broken object level authorization. Bob, an ordinary customer, replays every request Alice may make on
her own objects, with her ids and her bodies, on every operation that acts on a user's own things (the table in
``endpoints.py``): where the path names Alice's object he gets 404, exactly as for one that does not exist, and
nothing Alice can see of hers has changed."""

from __future__ import annotations

import pytest

from apps.gateway.tests.problems import assert_problem
from ecommerce.roles import Role
from tests.security.endpoints import ENDPOINTS, Audience, operations_for, send
from tests.security.world import alice_snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("operation", operations_for(Audience.OWNER))
def test_another_customers_object_is_404_and_stays_as_it_was(world, operation) -> None:
    before = alice_snapshot(world)

    response = send(world.client(Role.CUSTOMER), operation, ENDPOINTS[operation].call(world))

    assert_problem(response, 404, "not_found")
    assert alice_snapshot(world) == before


@pytest.mark.parametrize("operation", operations_for(Audience.SIGNED_IN))
def test_acting_on_ones_own_things_never_reaches_another_customers(world, operation) -> None:
    before = alice_snapshot(world)

    response = send(world.client(Role.CUSTOMER), operation, ENDPOINTS[operation].call(world))

    assert response.status_code < 500, response.content
    assert alice_snapshot(world) == before


def test_the_owner_herself_gets_each_of_her_objects(world) -> None:
    """The other side of the 404s above: the table's calls do reach the objects, for their owner."""
    for operation in operations_for(Audience.OWNER):
        if operation.startswith("GET "):
            response = send(world.client("alice"), operation, ENDPOINTS[operation].call(world))
            assert response.status_code == 200, (operation, response.content)


def test_a_guest_cart_is_reached_only_with_its_own_token(world, api_client) -> None:
    """Guest carts are named by an unguessable token instead of an id: another guest's token, a forged one and a
    signed-in customer reach their own cart, never this one."""
    token = api_client.post("/api/v1/carts").json()["token"]
    added = api_client.post("/api/v1/cart/items", {"product_id": world.product_id, "quantity": 2}, format="json",
                            headers={"X-Cart-Token": token})
    assert added.status_code == 201, added.content
    other = api_client.post("/api/v1/carts").json()["token"]

    def guest_cart() -> dict:
        return api_client.get("/api/v1/cart", headers={"X-Cart-Token": token}).json()

    before = guest_cart()
    for headers in ({"X-Cart-Token": other}, {"X-Cart-Token": token[:-2] + "xx"}, {"X-Cart-Token": "forged"}):
        for method, path, body in (("get", "/api/v1/cart", None), ("delete", "/api/v1/cart", None),
                                   ("patch", f"/api/v1/cart/items/{world.product_id}", {"quantity": 1}),
                                   ("delete", f"/api/v1/cart/items/{world.product_id}", None)):
            response = getattr(api_client, method)(path, body, format="json", headers=headers)
            assert response.status_code < 500, response.content
            if response.status_code == 200 and response.content:
                assert response.json().get("items") == [], (headers, path, response.content)
    world.client(Role.CUSTOMER).delete("/api/v1/cart")

    assert guest_cart() == before
    assert [line["quantity"] for line in before["items"]] == [2]
