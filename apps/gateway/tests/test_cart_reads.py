"""A signed-in cart read again is answered from the cached answer before the middleware stack and DRF, in one cache
round trip and no database read, and it answers exactly what the view answers; whatever it may not answer (a bad,
revoked or throttled token, a cache outage, a request the API treats otherwise) is answered by the view as before.
The invalidation rules themselves are test_cart_cache's: its reads go through this path too."""

from __future__ import annotations

import time
from decimal import Decimal
from itertools import count

import jwt
import pytest
import redis.connection
import redis.exceptions
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.gateway.api import cart as cart_api
from apps.gateway.tests.problems import assert_problem
from conftest import DEFAULT_PASSWORD
from ecommerce import auth
from ecommerce.contracts.orders import VoucherChanges, VoucherInput, VoucherKind, orders_service
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import users_service
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"
EARLY = "apps.gateway.cart_middleware.SignedInCartMiddleware"
_numbers = count(1)


@pytest.fixture(autouse=True)
def _cached(settings) -> None:
    settings.ECOMMERCE_CATALOG_CACHE_SECONDS = 300


def new_product(*, price: str = "10.00", stock: int = 5):
    number = next(_numbers)
    return products_service.product_create(product=ProductInput(
        sku=f"CART-READ-{number}", name=f"Cart read product {number}", price=Decimal(price), stock=stock))


def cart_of(client: APIClient, *products) -> None:
    """Puts the products in the client's cart and reads it once, so its answer is cached."""
    for product in products:
        assert client.post(ITEMS, {"product_id": product.id, "quantity": 1}, format="json").status_code == 201
    assert client.get(CART).status_code == 200


class ViewCalls:
    def __init__(self, monkeypatch) -> None:
        self.count = 0
        real_get = cart_api.CartView.get

        def counting(view, request):
            self.count += 1
            return real_get(view, request)

        monkeypatch.setattr(cart_api.CartView, "get", counting)


class RoundTrips:
    """The commands of every round trip to Redis, as sent."""

    def __init__(self, monkeypatch) -> None:
        self.sent: list[bytes] = []
        real_send = redis.connection.AbstractConnection.send_packed_command

        def recording(connection, command, check_health=True):
            self.sent.append(command if isinstance(command, bytes) else b"".join(command))
            return real_send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", recording)


def test_a_cart_read_again_is_answered_before_the_view_in_one_round_trip(customer_client, monkeypatch):
    # given a cart of two products, read once
    cart_of(customer_client, new_product(), new_product())
    view, trips = ViewCalls(monkeypatch), RoundTrips(monkeypatch)
    # when it is read again with nothing changed
    with CaptureQueriesContext(connection) as queries:
        again = customer_client.get(CART)
    # then no view ran, no database was read, and the throttle count, the revocation mark and the answer came in one
    # round trip
    assert again.status_code == 200
    assert len(again.json()["items"]) == 2
    assert (view.count, len(queries)) == (0, 0)
    assert len(trips.sent) == 1
    assert b"throttle_user" in trips.sent[0]
    assert b"auth:revoked-before" in trips.sent[0]


def test_the_early_answer_is_the_views_answer_headers_included(customer_client, settings):
    # given a cached cart
    cart_of(customer_client, new_product(price="12.34"), new_product())
    early = customer_client.get(CART)
    # when the same cart is read through the view alone
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != EARLY]
    through_view = APIClient()
    through_view.credentials(**customer_client._credentials)
    viewed = through_view.get(CART)
    # then both answers are the same, byte for byte, with the same headers
    assert (early.status_code, early.content) == (viewed.status_code, viewed.content)

    def headers(response) -> dict[str, str]:
        return {name: value for name, value in response.headers.items() if name != "X-Request-ID"}

    assert headers(early) == headers(viewed)


def test_a_revoked_token_is_refused_even_with_its_cart_cached(customer_client):
    # given a cached cart
    cart_of(customer_client, new_product())
    # when the user's tokens are revoked (a new password)
    users_service.password_change(user_id=customer_client.user.id, old_password=DEFAULT_PASSWORD,
                                  new_password="A-Brand-New-Passphrase-31")
    # then the old token reads nothing
    assert_problem(customer_client.get(CART), 401, "not_authenticated")


@pytest.mark.parametrize("spoil", ["signature", "refresh_token", "header"])
def test_a_token_that_does_not_verify_is_refused_even_with_its_cart_cached(customer_client, spoil):
    # given a cached cart
    cart_of(customer_client, new_product())
    access = customer_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    # when it is asked for with a spoilt token of the same user
    if spoil == "signature":
        authorization = f"Bearer {access[:-4]}AAAA"
    elif spoil == "refresh_token":
        refresh = users_service.auth_login(email=customer_client.user.email, password=DEFAULT_PASSWORD).refresh
        authorization = f"Bearer {refresh}"
    else:
        authorization = f"Bearer {access} extra"
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=authorization)
    # then it is refused as without the cache
    assert intruder.get(CART).status_code == 401


def test_a_token_is_verified_once_per_process_and_never_past_its_expiry(customer_client, monkeypatch):
    # given a cached cart read once with the customer's token (so the early path has verified it)
    cart_of(customer_client, new_product())
    assert customer_client.get(CART).status_code == 200
    verified = []
    real_validate = auth.StatelessJWTAuthentication.get_validated_token

    def counting(authentication, raw_token):
        verified.append(raw_token)
        return real_validate(authentication, raw_token)

    monkeypatch.setattr(auth.StatelessJWTAuthentication, "get_validated_token", counting)
    # when it reads the cart again
    again = customer_client.get(CART)
    # then the early path answered without verifying the token again
    assert (again.status_code, verified) == (200, [])
    # and a token differing only in its signature is verified (and refused), never taken for the remembered one
    access = customer_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Bearer {access[:-4]}AAAA")
    assert intruder.get(CART).status_code == 401
    assert len(verified) >= 1
    # and once the token's expiry has passed, it is no longer taken from memory: it goes to the API's verification
    # again (which refuses an expired token)
    expiry = jwt.decode(access, options={"verify_signature": False})["exp"]
    monkeypatch.setattr(auth.time, "time", lambda: expiry + 1)
    before = len(verified)
    auth.bearer_principal(f"Bearer {access}")
    assert verified[before:] == [access.encode()]


def test_the_tokens_a_process_remembers_are_bounded(monkeypatch):
    monkeypatch.setattr(auth._VerifiedTokens, "MAX_TOKENS", 3)
    tokens = auth._VerifiedTokens()
    principal = auth.Principal(id=1, role=Role.CUSTOMER)
    for number in range(5):
        tokens.put(b"token-%d" % number, principal, number, expires_at=time.time() + 60)
    assert [tokens.get(b"token-%d" % number) is not None for number in range(5)] == [False, False, True, True, True]
    tokens.put(b"stale", principal, 0, expires_at=time.time() - 1)
    assert tokens.get(b"stale") is None


def test_a_throttled_caller_is_refused_even_with_their_cart_cached(customer_client, settings):
    # given a limit of three requests a minute
    settings.ECOMMERCE_THROTTLE_USER = "3/min"
    # when a cart is read four times (the first composes it; the others are answered early)
    statuses = [customer_client.get(CART) for _ in range(4)]
    # then every read counted once, and the fourth is refused properly
    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    assert_problem(statuses[-1], 429, "throttled")
    assert int(statuses[-1]["Retry-After"]) >= 1


def test_a_cached_cart_is_refused_with_503_while_the_cache_is_down(customer_client, monkeypatch):
    # given a cached cart
    cart_of(customer_client, new_product())

    def refused(connection, command, check_health=True):
        raise redis.exceptions.ConnectionError("redis://cache.internal:6379 refused")

    # when the shared cache stops answering
    with monkeypatch.context() as outage:
        outage.setattr(redis.connection.AbstractConnection, "send_packed_command", refused)
        answer = customer_client.get(CART)
    # then the read fails closed, as every signed-in request does
    assert_problem(answer, 503, "service_unavailable")


def test_a_cached_cart_is_only_ever_its_owners(client_for):
    # given Alice's cart, cached
    alice, bob = client_for(), client_for()
    cart_of(alice, new_product())
    # when Bob reads his cart
    bobs = bob.get(CART)
    # then he sees his own, empty one
    assert (bobs.status_code, bobs.json()["items"]) == (200, [])


def test_a_request_the_api_treats_otherwise_goes_on_to_the_view(customer_client):
    # given a cached cart
    cart_of(customer_client, new_product())
    # when it is asked for as something other than JSON
    refused = customer_client.get(CART, HTTP_ACCEPT="text/html")
    # then DRF refuses it, as without the cache
    assert_problem(refused, 406, "not_acceptable")


def test_a_voucher_is_priced_anew_on_every_read(customer_client):
    # given a cart with a voucher, read once
    cart_of(customer_client, new_product(price="50.00"))
    voucher = orders_service.voucher_create(voucher=VoucherInput(code="CARTREAD", kind=VoucherKind.FIXED,
                                                                 value=Decimal("2.00")))
    assert customer_client.post("/api/v1/cart/voucher", {"code": "CARTREAD"}, format="json").status_code == 200
    assert customer_client.get(CART).json()["discount"] == "2.00"
    # when the voucher changes, which changes no version the cart's answer is cached under
    orders_service.voucher_update(voucher_id=voucher.id, changes=VoucherChanges(value=Decimal("5.00")))
    # then the next read shows it
    assert (customer_client.get(CART).json()["discount"]) == "5.00"
