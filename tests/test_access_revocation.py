"""A user's access ends within seconds of the event that should end it, and the gateway learns it without a database
read: deactivation, deletion, a new role or a new password revoke every access token issued before. The shop also
always keeps an active admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis.connection
from django.core.cache import cache
from rest_framework.test import APIClient, APIRequestFactory

from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce import throttling, token_revocation
from ecommerce.auth import StatelessJWTAuthentication
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import UserChanges, users_service
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "A-Brand-New-Passphrase-31"


class BrokenCache:
    """The shared cache during an outage."""

    def get(self, *args, **kwargs):
        raise ConnectionError("redis://cache.internal:6379 refused")

    set = get


def product_in_stock():
    return products_service.product_create(product=ProductInput(sku="REVOKE-1", name="Revocation probe",
                                                                price=Decimal("10.00"), stock=5))


def test_a_deactivated_users_token_stops_working_at_once(customer_client) -> None:
    assert customer_client.get("/api/v1/cart").status_code == 200

    users_service.user_update(user_id=customer_client.user.id, changes=UserChanges(is_active=False))

    assert_problem(customer_client.get("/api/v1/cart"), 401, "not_authenticated")
    assert_problem(customer_client.get("/api/v1/users/me"), 401, "not_authenticated")


def test_a_deleted_users_token_can_neither_add_to_a_cart_nor_reach_orders(customer_client) -> None:
    product = product_in_stock()

    users_service.user_delete(user_id=customer_client.user.id)
    added = customer_client.post("/api/v1/cart/items", {"product_id": product.id, "quantity": 1}, format="json")
    orders = customer_client.get("/api/v1/orders")

    assert_problem(added, 401, "not_authenticated")
    assert_problem(orders, 401, "not_authenticated")
    assert products_service.product_get(product_id=product.id).stock == 5


def test_a_password_change_ends_every_older_token_and_a_new_sign_in_works(customer_client, api_client) -> None:
    user = customer_client.user
    other_device = APIClient()
    other_device.credentials(HTTP_AUTHORIZATION="Bearer " + users_service.auth_login(
        email=user.email, password=DEFAULT_PASSWORD).access)

    changed = customer_client.post("/api/v1/auth/password/change",
                                   {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    fresh = api_client.post("/api/v1/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json")

    assert changed.status_code == 204
    assert_problem(other_device.get("/api/v1/users/me"), 401, "not_authenticated")
    assert_problem(customer_client.get("/api/v1/users/me"), 401, "not_authenticated")
    assert fresh.status_code == 200
    signed_in_again = APIClient()
    signed_in_again.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh.json()['access']}")
    assert signed_in_again.get("/api/v1/users/me").status_code == 200


def test_a_demoted_staff_members_token_loses_the_old_role_at_once(client_for, admin_client_api) -> None:
    staff = client_for(Role.CATALOG_STAFF)
    assert staff.post("/api/v1/categories", {"name": "Before"}, format="json").status_code == 201

    demoted = admin_client_api.patch(f"/api/v1/users/{staff.user.id}", {"role": "customer"}, format="json")

    assert demoted.status_code == 200
    assert_problem(staff.post("/api/v1/categories", {"name": "After"}, format="json"), 401, "not_authenticated")


def test_authentication_reads_the_cache_once_and_the_database_never(customer_client, django_assert_num_queries,
                                                                    monkeypatch) -> None:
    token = customer_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    request = APIRequestFactory().get("/api/v1/cart", HTTP_AUTHORIZATION=f"Bearer {token}")
    reads: list[str] = []
    real_get = cache.get

    def counting_get(key, *args, **kwargs):
        reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(token_revocation.cache, "get", counting_get)
    with django_assert_num_queries(0):
        principal, _ = StatelessJWTAuthentication().authenticate(request)

    assert principal.id == customer_client.user.id
    assert len(reads) == 1


class RoundTrips:
    """The commands of every round trip to Redis, as sent."""

    def __init__(self, monkeypatch) -> None:
        self.sent: list[bytes] = []
        real_send = redis.connection.AbstractConnection.send_packed_command

        def recording(connection, command, check_health=True):
            self.sent.append(command if isinstance(command, bytes) else b"".join(command))
            return real_send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", recording)


@pytest.mark.skipif(not hasattr(cache, "delete_pattern"), reason="round trips are counted on Redis (REDIS_URL)")
def test_a_signed_in_request_reads_its_revocation_mark_in_the_throttles_round_trip(customer_client,
                                                                                   monkeypatch) -> None:
    # given a signed-in customer
    trips = RoundTrips(monkeypatch)
    # when they read their cart (an empty one: no other cache read but the cart's own)
    assert customer_client.get("/api/v1/cart").status_code == 200
    # then the mark and the user's throttle count went in one round trip, and neither in any other
    marks = [sent for sent in trips.sent if b"auth:revoked-before" in sent]
    counts = [sent for sent in trips.sent if b"throttle_user" in sent]
    assert len(marks) == 1
    assert marks == counts


def test_a_revoked_tokens_refused_requests_do_not_count_against_the_user(customer_client, settings) -> None:
    # given a limit of three requests a minute and a token revoked by a password change
    settings.ECOMMERCE_THROTTLE_USER = "3/min"
    user = customer_client.user
    users_service.password_change(user_id=user.id, old_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD)
    # when the old token is used again and again
    assert {customer_client.get("/api/v1/cart").status_code for _ in range(5)} == {401}
    # then a new token still has the whole allowance
    fresh = APIClient()
    tokens = users_service.auth_login(email=user.email, password=NEW_PASSWORD)
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert [fresh.get("/api/v1/cart").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_while_the_cache_is_down_tokens_are_refused_with_503_not_accepted_unchecked(customer_client,
                                                                                    monkeypatch) -> None:
    # the mark is read either alone or in the throttle's round trip: both fail during an outage
    monkeypatch.setattr(token_revocation, "cache", BrokenCache())
    monkeypatch.setattr(throttling, "cache", BrokenCache())

    response = customer_client.get("/api/v1/users/me")

    body = assert_problem(response, 503, "service_unavailable")
    assert "cache.internal" not in response.content.decode()
    assert "detail" in body


def test_a_deactivation_whose_revocation_cannot_be_written_changes_nothing(admin_client_api, make_user,
                                                                           monkeypatch) -> None:
    customer = make_user()
    monkeypatch.setattr(token_revocation, "cache", BrokenCache())

    response = admin_client_api.patch(f"/api/v1/users/{customer.id}", {"is_active": False}, format="json")

    monkeypatch.undo()
    assert_problem(response, 503, "service_unavailable")
    assert users_service.user_get(user_id=customer.id).is_active


# --- the last admin -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "body"), [("patch", {"role": "customer"}), ("patch", {"is_active": False}),
                                              ("delete", None)])
def test_the_last_admin_cannot_demote_deactivate_or_delete_themselves(admin_client_api, method, body) -> None:
    me = admin_client_api.user
    url = f"/api/v1/users/{me.id}"

    response = getattr(admin_client_api, method)(url, body, format="json")

    assert_problem(response, 409, "last_admin")
    still = users_service.user_get(user_id=me.id)
    assert (still.role, still.is_active) == (Role.ADMIN, True)
    assert admin_client_api.get(url).status_code == 200  # nothing was revoked either


def test_with_another_active_admin_an_admin_may_step_down(admin_client_api, make_user) -> None:
    make_user(Role.ADMIN)
    me = admin_client_api.user

    stepped_down = admin_client_api.patch(f"/api/v1/users/{me.id}", {"role": "catalog_staff"}, format="json")

    assert stepped_down.status_code == 200
    assert users_service.user_get(user_id=me.id).role == Role.CATALOG_STAFF


def test_an_inactive_admin_does_not_count_as_the_one_that_remains(admin_client_api, make_user) -> None:
    dormant = make_user(Role.ADMIN)
    users_service.user_update(user_id=dormant.id, changes=UserChanges(is_active=False))

    response = admin_client_api.delete(f"/api/v1/users/{admin_client_api.user.id}")

    assert_problem(response, 409, "last_admin")
