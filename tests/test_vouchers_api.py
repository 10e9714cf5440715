"""Vouchers through the public API: catalog staff manage them; a shopper applies one to the cart, sees it in the
totals, and checkout snapshots it as the order's discount; every way a voucher cannot be used is 400
``voucher_invalid`` naming why and changes nothing; a canceled order gives its use back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.gateway.composition import cart as cart_composition
from apps.gateway.tests.problems import assert_problem
from apps.orders.models import Voucher, VoucherRedemption
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import AddressInput, users_service

pytestmark = pytest.mark.django_db

VOUCHERS = "/api/v1/vouchers"
CART_VOUCHER = "/api/v1/cart/voucher"
ORDERS = "/api/v1/orders"
_numbers = count(1)


def make_product(*, price: str = "40.00", stock: int = 20):
    number = next(_numbers)
    return products_service.product_create(product=ProductInput(
        sku=f"VOUCH-{number}", name=f"Voucher product {number}", price=Decimal(price), stock=stock))


def make_voucher(**fields) -> Voucher:
    values = {"code": f"SAVE{next(_numbers)}", "kind": "percent", "value": Decimal("10.00"), **fields}
    return Voucher.objects.create(**values)


def with_cart(client, *, price: str = "40.00", quantity: int = 1):
    product = make_product(price=price)
    cart_composition.cart_item_add(user_id=client.user.id, product_id=product.id, quantity=quantity)
    return product


def checkout(client, **body):
    if "address_id" not in body and "shipping_address" not in body:
        body["address_id"] = users_service.address_create(user_id=client.user.id, address=AddressInput(
            full_name="Val Oucher", street="5 Code St", city="Boston", zip_code="02110", country="US")).id
    return client.post(ORDERS, body, format="json", headers={"Idempotency-Key": uuid.uuid4().hex})


# --- staff management --------------------------------------------------------------------------------------------

def test_catalog_staff_create_read_change_and_delete_a_voucher(catalog_client):
    created = catalog_client.post(VOUCHERS, {
        "code": "spring-10", "kind": "percent", "value": "10", "min_subtotal": "50.00", "max_uses": 100,
        "max_uses_per_customer": 1}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["kind"], body["value"], body["min_subtotal"], body["uses"]) == (
        "SPRING-10", "percent", "10.00", "50.00", 0)
    url = f"{VOUCHERS}/{body['id']}"

    changed = catalog_client.patch(url, {"min_subtotal": None, "value": "15.00"}, format="json")
    listed = catalog_client.get(VOUCHERS)

    assert changed.status_code == 200, changed.content
    assert (changed.json()["min_subtotal"], changed.json()["value"], changed.json()["max_uses"]) == (
        None, "15.00", 100)
    assert listed.json()["count"] == 1
    assert catalog_client.get(url).json()["code"] == "SPRING-10"
    assert catalog_client.delete(url).status_code == 204
    assert_problem(catalog_client.get(url), 404, "not_found")


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "BIG", "kind": "percent", "value": "120"}, "value"),
    ({"code": "ZERO", "kind": "fixed", "value": "0.00"}, "value"),
    ({"code": "no spaces", "kind": "fixed", "value": "5.00"}, "code"),
    ({"code": "LIMIT", "kind": "fixed", "value": "5.00", "max_uses": 0}, "max_uses"),
    ({"code": "WINDOW", "kind": "fixed", "value": "5.00", "starts_at": "2030-01-02T00:00:00Z",
      "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
    ({"code": "KIND", "kind": "gift", "value": "5.00"}, "kind"),
])
def test_a_bad_voucher_is_refused_naming_the_field(catalog_client, body, field):
    response = catalog_client.post(VOUCHERS, body, format="json")

    problem = assert_problem(response, 400, "validation_error")
    assert field in problem["errors"]
    assert not Voucher.objects.exists()


def test_a_taken_code_is_refused_whatever_its_case(catalog_client):
    make_voucher(code="TAKEN")

    response = catalog_client.post(VOUCHERS, {"code": "taken", "kind": "fixed", "value": "5.00"}, format="json")

    assert "code" in assert_problem(response, 400, "validation_error")["errors"]


def test_only_catalog_staff_manage_vouchers(customer_client, order_staff_client, api_client):
    voucher = make_voucher()

    assert_problem(customer_client.get(VOUCHERS), 403, "permission_denied")
    assert_problem(order_staff_client.post(VOUCHERS, {"code": "NOPE", "kind": "fixed", "value": "1.00"},
                                           format="json"), 403, "permission_denied")
    assert_problem(customer_client.delete(f"{VOUCHERS}/{voucher.id}"), 403, "permission_denied")
    assert_problem(api_client.get(VOUCHERS), 401, "not_authenticated")
    assert Voucher.objects.count() == 1


def test_a_used_voucher_cannot_be_deleted_nor_limited_below_its_uses(catalog_client, customer_client):
    voucher = make_voucher(max_uses=10)
    with_cart(customer_client)
    customer_client.post(CART_VOUCHER, {"code": voucher.code}, format="json")
    assert checkout(customer_client).status_code == 201

    assert_problem(catalog_client.delete(f"{VOUCHERS}/{voucher.id}"), 409, "conflict")
    refused = catalog_client.patch(f"{VOUCHERS}/{voucher.id}", {"max_uses": 0}, format="json")
    assert "max_uses" in assert_problem(refused, 400, "validation_error")["errors"]
    assert Voucher.objects.get(pk=voucher.pk).max_uses == 10


# --- the shopper's side ------------------------------------------------------------------------------------------

def test_a_voucher_shows_in_the_cart_totals_and_becomes_the_orders_discount(customer_client):
    # given a cart of 2 x 40.00 and a 10 % voucher
    with_cart(customer_client, quantity=2)
    voucher = make_voucher(code="TENOFF")

    # when the shopper applies it (in lower case) and checks out
    applied = customer_client.post(CART_VOUCHER, {"code": "tenoff"}, format="json")
    order = checkout(customer_client, expected_total="72.00")

    # then the cart showed the discount, the order kept it, and the voucher counts the use
    assert applied.status_code == 200, applied.content
    cart = applied.json()
    assert cart["voucher"] == {"code": "TENOFF", "discount": "8.00", "problem": None}
    assert (cart["subtotal"], cart["discount"], cart["total"]) == ("80.00", "8.00", "72.00")
    assert order.status_code == 201, order.content
    body = order.json()
    assert (body["subtotal"], body["shipping_cost"], body["discount"], body["total"]) == (
        "80.00", "5.00", "8.00", "77.00")
    voucher.refresh_from_db()
    assert voucher.uses == 1
    assert customer_client.get("/api/v1/cart").json()["voucher"] is None


def test_a_fixed_voucher_never_takes_more_than_the_subtotal(customer_client):
    with_cart(customer_client, price="15.00")
    make_voucher(code="FIFTY", kind="fixed", value=Decimal("50.00"))

    cart = customer_client.post(CART_VOUCHER, {"code": "FIFTY"}, format="json").json()

    assert (cart["discount"], cart["total"]) == ("15.00", "0.00")


@pytest.mark.parametrize(("fields", "reason"), [
    ({"starts_at": timezone.now() + timedelta(days=1)}, "not_started"),
    ({"ends_at": timezone.now() - timedelta(seconds=1)}, "expired"),
    ({"min_subtotal": Decimal("100.00")}, "below_minimum"),
    ({"max_uses": 0}, "used_up"),
])
def test_a_voucher_that_cannot_apply_is_refused_and_the_cart_is_unchanged(customer_client, fields, reason):
    with_cart(customer_client)
    voucher = make_voucher(**fields)

    response = customer_client.post(CART_VOUCHER, {"code": voucher.code}, format="json")

    problem = assert_problem(response, 400, "voucher_invalid")
    assert problem["reason"] == reason
    assert "code" in problem["errors"]
    assert customer_client.get("/api/v1/cart").json()["voucher"] is None


def test_an_unknown_or_missing_code_is_refused(customer_client):
    unknown = customer_client.post(CART_VOUCHER, {"code": "NOSUCH"}, format="json")
    missing = customer_client.post(CART_VOUCHER, {}, format="json")

    assert assert_problem(unknown, 400, "voucher_invalid")["reason"] == "unknown"
    assert "code" in assert_problem(missing, 400, "validation_error")["errors"]


def test_the_per_customer_limit_holds_and_a_canceled_order_gives_the_use_back(customer_client):
    # given a voucher one customer may use once, used by their order
    voucher = make_voucher(code="ONCE", max_uses_per_customer=1, max_uses=5)
    with_cart(customer_client)
    customer_client.post(CART_VOUCHER, {"code": "ONCE"}, format="json")
    first = checkout(customer_client).json()
    with_cart(customer_client)

    # when they try it again, then cancel the first order and try again
    refused = customer_client.post(CART_VOUCHER, {"code": "ONCE"}, format="json")
    canceled = customer_client.post(f"{ORDERS}/{first['id']}/cancel")
    voucher.refresh_from_db()
    uses_after_cancel = voucher.uses
    accepted = customer_client.post(CART_VOUCHER, {"code": "ONCE"}, format="json")

    # then the second try was refused; the cancellation gave the use back
    assert assert_problem(refused, 400, "voucher_invalid")["reason"] == "customer_limit"
    assert canceled.status_code == 200
    assert uses_after_cancel == 0
    assert not VoucherRedemption.objects.exists()
    assert accepted.status_code == 200
    assert accepted.json()["voucher"]["code"] == "ONCE"


def test_a_voucher_that_stopped_applying_is_shown_and_refused_at_checkout(customer_client):
    # given a voucher in the cart that expires afterwards
    with_cart(customer_client)
    voucher = make_voucher(code="SOON")
    customer_client.post(CART_VOUCHER, {"code": "SOON"}, format="json")
    Voucher.objects.filter(pk=voucher.pk).update(ends_at=timezone.now() - timedelta(minutes=1))

    # when the shopper reads the cart and checks out
    cart = customer_client.get("/api/v1/cart").json()
    response = checkout(customer_client)

    # then the cart says it takes nothing off, and checkout refuses it, taking nothing
    assert cart["voucher"]["discount"] == "0.00"
    assert "expired" in cart["voucher"]["problem"]
    assert assert_problem(response, 400, "voucher_invalid")["reason"] == "expired"
    assert customer_client.get("/api/v1/orders").json()["count"] == 0
    assert len(customer_client.get("/api/v1/cart").json()["items"]) == 1


def test_removing_the_voucher(customer_client):
    with_cart(customer_client)
    make_voucher(code="GONE")
    customer_client.post(CART_VOUCHER, {"code": "GONE"}, format="json")

    removed = customer_client.delete(CART_VOUCHER)
    again = customer_client.delete(CART_VOUCHER)

    assert removed.status_code == 200
    assert (removed.json()["voucher"], removed.json()["discount"]) == (None, "0.00")
    assert again.status_code == 200
