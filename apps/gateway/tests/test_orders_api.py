"""The public orders API: checkout with its Idempotency-Key rules, reads scoped to the owner, cancellation and the
staff status endpoint; every error answer, and that an error (or a client trying to set server fields) changes
nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from itertools import count

import pytest
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator

from apps.gateway.composition import cart as cart_composition
from apps.gateway.tests.problems import assert_problem
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import OrderStatus, orders_service
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import AddressInput, users_service
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
ORDER_FIELDS = {"id", "number", "status", "items", "subtotal", "shipping_cost", "discount", "total", "currency",
                "shipping_address", "payment_status", "created_at", "updated_at", "carrier", "tracking_number"}
_numbers = count(1)
UNKNOWN_ORDER_ID = uuid.UUID("00000000-0000-4000-8000-000000000000")


def order_url(order_id, action: str = "") -> str:
    return f"{ORDERS}/{order_id}" + (f"/{action}" if action else "")


def make_product(*, price: str = "10.00", stock: int = 5):
    number = next(_numbers)
    return products_service.product_create(
        product=ProductInput(sku=f"API-ORD-{number}", name=f"Api order product {number}", price=Decimal(price),
                             stock=stock)
    )


def available(product) -> int:
    return products_service.product_get(product_id=product.id).stock


def address_of(client) -> int:
    address = users_service.address_create(user_id=client.user.id, address=AddressInput(
        full_name="Grace Hopper", street="1 Compiler Way", city="Arlington", state="VA", zip_code="22201",
        country="US", phone="+1 555 0100"))
    return address.id


def fill_cart(client, *lines) -> None:
    for product, quantity in lines:
        cart_composition.cart_item_add(user_id=client.user.id, product_id=product.id, quantity=quantity)


def place(client, *, key: str | None = None, **body):
    return client.post(ORDERS, body, format="json", headers={"Idempotency-Key": key or uuid.uuid4().hex})


def order_for(client, product=None, quantity: int = 1) -> dict:
    """A real order of ``client``, made through the API."""
    fill_cart(client, (product or make_product(), quantity))
    response = place(client, address_id=address_of(client))
    assert response.status_code == 201, response.content
    return response.json()


def order_count() -> int:
    return orders_service.order_list(user_id=None).count


# --- authentication -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "url"), [
    ("get", ORDERS), ("post", ORDERS), ("get", order_url(UNKNOWN_ORDER_ID)),
    ("post", order_url(UNKNOWN_ORDER_ID, "cancel")), ("post", order_url(UNKNOWN_ORDER_ID, "status")),
])
def test_every_order_endpoint_needs_a_signed_in_user(api_client, method, url):
    response = getattr(api_client, method)(url, {"status": "paid", "address_id": 1}, format="json")

    assert_problem(response, 401, "not_authenticated")


# --- checkout -----------------------------------------------------------------------------------------------------

def test_checkout_answers_201_with_the_order(customer_client):
    lamp = make_product(price="19.99", stock=5)
    fill_cart(customer_client, (lamp, 2))
    address_id = address_of(customer_client)

    response = place(customer_client, address_id=address_id)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert set(body) == ORDER_FIELDS
    assert body["status"] == "pending"
    assert body["items"] == [{"product_id": lamp.id, "sku": lamp.sku, "name": lamp.name, "unit_price": "19.99",
                              "quantity": 2, "line_total": "39.98"}]
    assert (body["subtotal"], body["shipping_cost"], body["discount"], body["total"], body["currency"]) == (
        "39.98", "5.00", "0.00", "44.98", "USD")
    assert body["shipping_address"] == {"full_name": "Grace Hopper", "street": "1 Compiler Way",
                                        "city": "Arlington", "state": "VA", "zip_code": "22201", "country": "US",
                                        "phone": "+1 555 0100"}
    assert body["payment_status"] is None
    assert body["number"].startswith("ORD-")
    assert body["created_at"].endswith("Z")
    assert available(lamp) == 3
    assert carts_service.cart_get(user_id=customer_client.user.id).items == []


def test_the_same_key_and_body_replays_the_first_answer(customer_client):
    product = make_product(stock=5)
    fill_cart(customer_client, (product, 1))
    address_id = address_of(customer_client)

    first = place(customer_client, key="replay-me", address_id=address_id)
    second = place(customer_client, key="replay-me", address_id=address_id)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert order_count() == 1
    assert available(product) == 4


def test_a_replay_after_the_order_was_canceled_answers_the_first_answer_verbatim(customer_client):
    # given an order made with a key and canceled since
    fill_cart(customer_client, (make_product(stock=5), 1))
    address_id = address_of(customer_client)
    first = place(customer_client, key="cancel-then-replay", address_id=address_id)
    assert customer_client.post(order_url(first.json()["id"], "cancel")).status_code == 200

    # when the client replays the request
    again = place(customer_client, key="cancel-then-replay", address_id=address_id)

    # then it gets the first status and body, marked as a replay
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert again.json()["status"] == "pending"
    assert customer_client.get(order_url(first.json()["id"])).json()["status"] == "canceled"


def test_a_second_checkout_of_the_same_cart_with_a_new_key_finds_it_empty(customer_client):
    product = make_product(stock=5)
    fill_cart(customer_client, (product, 1))
    address_id = address_of(customer_client)

    first = place(customer_client, address_id=address_id)
    second = place(customer_client, address_id=address_id)

    assert first.status_code == 201
    assert assert_problem(second, 400, "validation_error")["errors"] == {"cart": ["Your cart is empty."]}
    assert order_count() == 1
    assert available(product) == 4


def test_a_cart_another_checkout_is_holding_is_409_and_the_key_is_not_kept(customer_client):
    # given another checkout of this cart is running (it has claimed the lines)
    product = make_product(stock=5)
    fill_cart(customer_client, (product, 1))
    address_id = address_of(customer_client)
    running = uuid.uuid4()
    carts_service.cart_claim(user_id=customer_client.user.id, order_id=running)

    # when the user checks out
    busy = place(customer_client, key="while-busy", address_id=address_id)

    # then the answer says so and nothing is reserved; once that checkout gave up, the same key goes through
    assert "cart" in assert_problem(busy, 409, "cart_checkout_in_progress")["detail"]
    assert available(product) == 5
    carts_service.cart_claim_release(order_id=running)
    retried = place(customer_client, key="while-busy", address_id=address_id)
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    assert available(product) == 4


def test_a_user_at_the_open_order_cap_gets_409_and_nothing_is_reserved(customer_client, settings):
    # given a customer with as many unpaid orders as allowed
    settings.ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = 2
    product = make_product(stock=10)
    order_for(customer_client, product)
    order_for(customer_client, product)
    fill_cart(customer_client, (product, 1))

    # when they check out again
    refused = place(customer_client, address_id=address_of(customer_client))

    # then the answer names the cap, and the cart and the stock are as they were
    body = assert_problem(refused, 409, "too_many_open_orders")
    assert "at most 2 unpaid orders" in body["detail"]
    assert available(product) == 8
    assert len(carts_service.cart_get(user_id=customer_client.user.id).items) == 1
    assert order_count() == 2


def test_the_same_key_with_another_body_is_422(customer_client):
    fill_cart(customer_client, (make_product(), 1))
    address_id = address_of(customer_client)
    place(customer_client, key="k1", address_id=address_id)

    response = place(customer_client, key="k1", address_id=address_of(customer_client))

    assert_problem(response, 422, "idempotency_conflict")
    assert order_count() == 1


def test_a_request_while_the_first_is_running_is_409(customer_client, monkeypatch):
    # given a second request with the same key arrives while the first one is reading the address
    product = make_product(stock=5)
    fill_cart(customer_client, (product, 1))
    address_id = address_of(customer_client)
    real_checkout_recipient = users_service.checkout_recipient
    answers = []

    def checkout_recipient_while_a_duplicate_arrives(**arguments):
        answers.append(place(customer_client, key="busy", address_id=address_id))
        return real_checkout_recipient(**arguments)

    monkeypatch.setitem(vars(users_service), "checkout_recipient", checkout_recipient_while_a_duplicate_arrives)

    # when the first request runs
    first = place(customer_client, key="busy", address_id=address_id)

    # then the duplicate got 409 and only the first made an order
    assert first.status_code == 201
    assert_problem(answers[0], 409, "idempotency_in_progress")
    assert order_count() == 1
    assert available(product) == 4


@pytest.mark.parametrize(("headers", "field"), [
    ({}, "Idempotency-Key"),
    ({"Idempotency-Key": ""}, "Idempotency-Key"),
    ({"Idempotency-Key": "k" * 256}, "Idempotency-Key"),
])
def test_checkout_without_a_usable_key_is_400_and_writes_nothing(customer_client, headers, field):
    product = make_product(stock=5)
    fill_cart(customer_client, (product, 1))

    response = customer_client.post(ORDERS, {"address_id": address_of(customer_client)}, format="json",
                                    headers=headers)

    body = assert_problem(response, 400, "validation_error")
    assert field in body["errors"]
    assert order_count() == 0
    assert available(product) == 5


def test_a_key_of_255_characters_is_accepted(customer_client):
    fill_cart(customer_client, (make_product(), 1))

    response = place(customer_client, key="k" * 255, address_id=address_of(customer_client))

    assert response.status_code == 201


@pytest.mark.parametrize("body", [{}, {"address_id": "home"}, {"address_id": 0}, {"address_id": None}])
def test_checkout_with_a_bad_body_is_400(customer_client, body):
    fill_cart(customer_client, (make_product(), 1))

    response = place(customer_client, **body)

    assert "address_id" in assert_problem(response, 400, "validation_error")["errors"]
    assert order_count() == 0


def test_an_empty_cart_is_400_and_its_replay_says_so(customer_client):
    address_id = address_of(customer_client)

    first = place(customer_client, key="empty", address_id=address_id)
    again = place(customer_client, key="empty", address_id=address_id)

    assert assert_problem(first, 400, "validation_error")["errors"] == {"cart": ["Your cart is empty."]}
    assert "Idempotent-Replayed" not in first
    assert assert_problem(again, 400, "validation_error") == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_another_users_address_is_404(client_for):
    owner, stranger = client_for(), client_for()
    product = make_product(stock=5)
    fill_cart(owner, (product, 1))

    response = place(owner, address_id=address_of(stranger))

    assert_problem(response, 404, "not_found")
    assert available(product) == 5
    assert order_count() == 0


def test_a_short_line_is_409_naming_it_and_nothing_is_reserved(customer_client):
    plenty, scarce = make_product(stock=9), make_product(stock=3)
    fill_cart(customer_client, (plenty, 2), (scarce, 3))
    products_service.product_stock_adjust(product_id=scarce.id, delta=-2)

    response = place(customer_client, address_id=address_of(customer_client))

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["lines"] == [{"product_id": scarce.id, "requested": 3, "available": 1}]
    assert (available(plenty), available(scarce)) == (9, 1)
    assert len(carts_service.cart_get(user_id=customer_client.user.id).items) == 2


def test_a_client_cannot_set_status_totals_prices_or_owner(client_for):
    buyer, other = client_for(), client_for()
    product = make_product(price="10.00", stock=5)
    fill_cart(buyer, (product, 1))

    response = place(buyer, address_id=address_of(buyer), status="delivered", total="0.01", subtotal="0.01",
                     unit_price="0.01", user=other.user.id, user_id=other.user.id, payment_status="succeeded",
                     items=[{"product_id": product.id, "quantity": 1, "unit_price": "0.01"}])

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["total"], body["payment_status"]) == ("pending", "15.00", None)
    assert body["items"][0]["unit_price"] == "10.00"
    assert orders_service.order_list(user_id=other.user.id).count == 0
    assert orders_service.order_list(user_id=buyer.user.id).count == 1


# --- reads --------------------------------------------------------------------------------------------------------

def test_customers_list_their_own_orders_newest_first(client_for):
    me, stranger = client_for(), client_for()
    older, newer = order_for(me), order_for(me)
    order_for(stranger)

    response = me.get(ORDERS, {"user_id": stranger.user.id})

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert (body["next"], body["previous"]) == (None, None)
    assert [order["id"] for order in body["results"]] == [newer["id"], older["id"]]
    assert set(body["results"][0]) == ORDER_FIELDS


def test_the_list_filters_by_status_and_pages(customer_client):
    first, second, third = order_for(customer_client), order_for(customer_client), order_for(customer_client)
    customer_client.post(order_url(second["id"], "cancel"))

    canceled = customer_client.get(ORDERS, {"status": "canceled"}).json()
    page_two = customer_client.get(ORDERS, {"page": 2, "page_size": 2}).json()

    assert [order["id"] for order in canceled["results"]] == [second["id"]]
    assert [order["id"] for order in page_two["results"]] == [first["id"]]
    assert page_two["count"] == 3
    assert page_two["previous"] is not None
    assert page_two["next"] is None
    assert third["id"] != first["id"]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"page": 0}, {"page_size": "many"}, {"user_id": "x"}])
def test_a_bad_list_query_is_400(customer_client, query):
    assert_problem(customer_client.get(ORDERS, query), 400, "validation_error")


@pytest.mark.parametrize("role", [Role.ORDER_STAFF, Role.ADMIN])
def test_staff_list_every_order_and_may_filter_by_user(client_for, role):
    alice, bob, staff = client_for(), client_for(), client_for(role)
    alices, bobs = order_for(alice), order_for(bob)

    everyone = staff.get(ORDERS).json()
    only_bob = staff.get(ORDERS, {"user_id": bob.user.id}).json()

    assert [order["id"] for order in everyone["results"]] == [bobs["id"], alices["id"]]
    assert [order["id"] for order in only_bob["results"]] == [bobs["id"]]


def test_an_order_is_visible_to_its_owner_and_staff_only(client_for):
    owner, stranger, staff = client_for(), client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)

    assert owner.get(order_url(order["id"])).json() == order
    assert staff.get(order_url(order["id"])).json() == order
    assert_problem(stranger.get(order_url(order["id"])), 404, "not_found")
    assert_problem(owner.get(order_url(uuid.uuid4())), 404, "not_found")
    assert_problem(owner.get(f"{ORDERS}/not-a-uuid"), 404, "not_found")


# --- cancel -------------------------------------------------------------------------------------------------------

def test_the_owner_cancels_and_the_stock_returns(customer_client):
    product = make_product(stock=5)
    order = order_for(customer_client, product, 2)

    response = customer_client.post(order_url(order["id"], "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert available(product) == 5


def test_another_customer_cannot_cancel(client_for):
    owner, stranger = client_for(), client_for()
    order = order_for(owner)

    assert_problem(stranger.post(order_url(order["id"], "cancel")), 404, "not_found")
    assert owner.get(order_url(order["id"])).json()["status"] == "pending"


def test_staff_cancel_a_paid_order_which_is_refunded(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)
    staff.post(order_url(order["id"], "status"), {"status": "paid"}, format="json")

    response = staff.post(order_url(order["id"], "cancel"))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == ("canceled", "refunded")


def test_canceling_a_shipped_order_is_409(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)
    for status in ("paid", "shipped"):
        staff.post(order_url(order["id"], "status"), {"status": status}, format="json")

    response = owner.post(order_url(order["id"], "cancel"))

    body = assert_problem(response, 409, "invalid_transition")
    assert "shipped" in body["detail"]
    assert owner.get(order_url(order["id"])).json()["status"] == "shipped"


def test_canceling_an_unknown_order_is_404(customer_client):
    assert_problem(customer_client.post(order_url(uuid.uuid4(), "cancel")), 404, "not_found")


# --- staff status -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.ORDER_STAFF, Role.ADMIN])
def test_staff_move_an_order_through_fulfilment(client_for, role):
    owner, staff = client_for(), client_for(role)
    product = make_product(stock=5)
    order = order_for(owner, product, 2)

    answers = [staff.post(order_url(order["id"], "status"), {"status": status}, format="json")
               for status in ("paid", "shipped", "delivered")]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["paid", "shipped", "delivered"]
    assert answers[0].json()["payment_status"] == "succeeded"
    assert available(product) == 3


def test_an_illegal_status_is_409_and_changes_nothing(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)

    response = staff.post(order_url(order["id"], "status"), {"status": "delivered"}, format="json")

    body = assert_problem(response, 409, "invalid_transition")
    assert "pending" in body["detail"]
    assert "delivered" in body["detail"]
    assert owner.get(order_url(order["id"])).json()["status"] == "pending"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.CATALOG_STAFF])
def test_others_may_not_set_a_status(client_for, role):
    owner = client_for()
    order = order_for(owner)
    caller = owner if role == Role.CUSTOMER else client_for(role)

    response = caller.post(order_url(order["id"], "status"), {"status": "paid"}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert owner.get(order_url(order["id"])).json()["status"] == "pending"


@pytest.mark.parametrize("body", [{}, {"status": "lost"}, {"status": None}])
def test_a_bad_status_body_is_400(order_staff_client, client_for, body):
    order = order_for(client_for())

    assert_problem(order_staff_client.post(order_url(order["id"], "status"), body, format="json"),
                   400, "validation_error")


def test_a_status_for_an_unknown_order_is_404(order_staff_client):
    response = order_staff_client.post(order_url(uuid.uuid4(), "status"), {"status": "paid"}, format="json")

    assert_problem(response, 404, "not_found")


def test_staff_ship_with_a_carrier_and_tracking_number_which_the_order_then_shows(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)
    staff.post(order_url(order["id"], "status"), {"status": "paid"}, format="json")

    shipped = staff.post(order_url(order["id"], "status"),
                         {"status": "shipped", "carrier": " UPS ", "tracking_number": "1Z999AA10123456784"},
                         format="json")

    assert shipped.status_code == 200, shipped.content
    assert (shipped.json()["status"], shipped.json()["carrier"], shipped.json()["tracking_number"]) == (
        "shipped", "UPS", "1Z999AA10123456784")
    seen_by_owner = owner.get(order_url(order["id"])).json()
    assert (seen_by_owner["carrier"], seen_by_owner["tracking_number"]) == ("UPS", "1Z999AA10123456784")


def test_shipping_without_a_carrier_still_works_and_shows_none(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)
    assert order["carrier"] is None
    assert order["tracking_number"] is None
    staff.post(order_url(order["id"], "status"), {"status": "paid"}, format="json")

    shipped = staff.post(order_url(order["id"], "status"), {"status": "shipped"}, format="json")

    assert shipped.status_code == 200
    assert (shipped.json()["status"], shipped.json()["carrier"], shipped.json()["tracking_number"]) == (
        "shipped", None, None)


@pytest.mark.parametrize(("body", "fields"), [
    ({"status": "shipped", "carrier": "UPS"}, {"tracking_number"}),
    ({"status": "shipped", "tracking_number": "1Z"}, {"carrier"}),
    ({"status": "shipped", "carrier": "   ", "tracking_number": "1Z"}, {"carrier"}),
    ({"status": "shipped", "carrier": "UPS", "tracking_number": 12345}, {"tracking_number"}),
    ({"status": "shipped", "carrier": None, "tracking_number": "1Z"}, {"carrier"}),
    ({"status": "shipped", "carrier": "U" * 65, "tracking_number": "1Z"}, {"carrier"}),
    ({"status": "shipped", "carrier": "UPS", "tracking_number": "1" * 101}, {"tracking_number"}),
    ({"status": "delivered", "carrier": "UPS", "tracking_number": "1Z"}, {"carrier", "tracking_number"}),
    ({"status": "canceled", "carrier": "UPS"}, {"carrier"}),
])
def test_a_bad_shipment_is_400_naming_the_fields_and_changes_nothing(client_for, body, fields):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)
    staff.post(order_url(order["id"], "status"), {"status": "paid"}, format="json")

    problem = assert_problem(staff.post(order_url(order["id"], "status"), body, format="json"),
                             400, "validation_error")

    assert set(problem["errors"]) == fields
    after = owner.get(order_url(order["id"])).json()
    assert (after["status"], after["carrier"], after["tracking_number"]) == ("paid", None, None)


def test_shipping_a_pending_order_with_a_carrier_is_still_409(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    order = order_for(owner)

    response = staff.post(order_url(order["id"], "status"),
                          {"status": "shipped", "carrier": "UPS", "tracking_number": "1Z"}, format="json")

    assert_problem(response, 409, "invalid_transition")
    assert owner.get(order_url(order["id"])).json()["carrier"] is None


def test_the_canceled_status_from_staff_releases_stock(client_for):
    owner, staff = client_for(), client_for(Role.ORDER_STAFF)
    product = make_product(stock=5)
    order = order_for(owner, product, 3)

    response = staff.post(order_url(order["id"], "status"), {"status": OrderStatus.CANCELED}, format="json")

    assert response.json()["status"] == "canceled"
    assert available(product) == 5


# --- schema -------------------------------------------------------------------------------------------------------

def test_the_schema_documents_the_order_endpoints_and_their_problems():
    generator = SchemaGenerator(patterns=[path("api/v1/", include("apps.gateway.api.orders"))])

    schema = generator.get_schema(request=None, public=True)
    paths, components = schema["paths"], schema["components"]["schemas"]

    checkout = paths[ORDERS]["post"]
    key = next(p for p in checkout["parameters"] if p["name"] == "Idempotency-Key")
    assert (key["in"], key["required"]) == ("header", True)
    assert {"201", "400", "401", "404", "409", "422"} <= set(checkout["responses"])
    assert all(code in checkout["description"] for code in ("too_many_open_orders", "cart_checkout_in_progress"))
    assert "Idempotent-Replayed" in checkout["responses"]["201"]["headers"]
    assert {"status", "user_id", "page", "page_size"} <= {p["name"] for p in paths[ORDERS]["get"]["parameters"]}
    assert {"200", "401", "404"} <= set(paths[f"{ORDERS}/{{order_id}}"]["get"]["responses"])
    assert {"200", "401", "404", "409"} <= set(paths[f"{ORDERS}/{{order_id}}/cancel"]["post"]["responses"])
    assert {"200", "400", "401", "403", "404", "409"} <= set(
        paths[f"{ORDERS}/{{order_id}}/status"]["post"]["responses"])
    status_body = paths[f"{ORDERS}/{{order_id}}/status"]["post"]["requestBody"]["content"]["application/json"]
    status_input = components[status_body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert status_input["required"] == ["status"]
    assert (status_input["properties"]["carrier"]["maxLength"],
            status_input["properties"]["tracking_number"]["maxLength"]) == (64, 100)
    assert {"carrier", "tracking_number"} <= set(components["OrderOutput"]["properties"])


def test_the_schema_says_which_list_parameters_are_invalid_and_what_the_list_answers_then(customer_client):
    # given the documented orders list (found by fuzzing: page=0 and a page past the end answered undocumented codes)
    generator = SchemaGenerator(patterns=[path("api/v1/", include("apps.gateway.api.orders"))])
    list_operation = generator.get_schema(request=None, public=True)["paths"][ORDERS]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in list_operation["parameters"]}

    # then the bounds the server enforces are in the schema
    assert parameters["page"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1}
    assert parameters["user_id"] == {"type": "integer", "minimum": 1}
    checkout_headers = {parameter["name"]: parameter["schema"]
                        for parameter in generator.get_schema(request=None, public=True)["paths"][ORDERS]["post"]
                        ["parameters"] if parameter["in"] == "header"}
    assert checkout_headers["Idempotency-Key"] == {"type": "string", "minLength": 1, "maxLength": 255}
    # and so are the answers to a value outside them and to a page past the end, which the server really gives
    assert {"200", "400", "401", "404"} <= set(list_operation["responses"])
    assert customer_client.get(ORDERS, {"page": 0}).status_code == 400
    assert customer_client.get(ORDERS, {"page": 2}).status_code == 404
