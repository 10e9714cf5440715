"""Vouchers in the admin, as catalog staff use them: made and changed under the same rules as through the API, the
count of uses never editable, and a voucher that orders used not deletable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.orders.models import Voucher
from conftest import DEFAULT_PASSWORD
from ecommerce.roles import Role

VOUCHERS = "/admin/orders/voucher/"
FORM = {"code": "", "kind": "percent", "value": "10", "min_subtotal": "", "starts_at_0": "", "starts_at_1": "",
        "ends_at_0": "", "ends_at_1": "", "max_uses": "", "max_uses_per_customer": "",
        "redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"}


@pytest.fixture
def catalog_browser(make_user) -> Client:
    staff = make_user(Role.CATALOG_STAFF)
    browser = Client()
    assert browser.login(username=staff.email, password=DEFAULT_PASSWORD)
    return browser


def test_the_catalog_staff_group_may_manage_vouchers(db):
    codenames = set(Group.objects.get(name="catalog_staff").permissions.filter(
        content_type__app_label="orders").values_list("codename", flat=True))

    assert {"add_voucher", "change_voucher", "delete_voucher", "view_voucher", "view_voucherredemption"} <= codenames


def test_catalog_staff_add_a_voucher_in_the_admin(catalog_browser):
    response = catalog_browser.post(f"{VOUCHERS}add/", {**FORM, "code": "admin-five", "max_uses": "5"})

    assert response.status_code == 302, response.content.decode()[:2000]
    voucher = Voucher.objects.get()
    assert (voucher.code, voucher.value, voucher.max_uses, voucher.uses) == ("ADMIN-FIVE", Decimal("10.00"), 5, 0)


@pytest.mark.parametrize(("fields", "message"), [
    ({"code": "PCT", "value": "150"}, "at most 100"),
    ({"code": "bad code!"}, "letters, digits"),
    ({"code": "WINDOW", "starts_at_0": "2030-01-02", "starts_at_1": "00:00:00", "ends_at_0": "2030-01-01",
      "ends_at_1": "00:00:00"}, "end after it starts"),
])
def test_the_admin_refuses_what_the_api_refuses(catalog_browser, fields, message):
    response = catalog_browser.post(f"{VOUCHERS}add/", {**FORM, **fields})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Voucher.objects.exists()


def test_a_customer_cannot_reach_the_voucher_admin(make_user):
    customer = make_user(Role.CUSTOMER)
    browser = Client()
    browser.login(username=customer.email, password=DEFAULT_PASSWORD)

    assert browser.get(VOUCHERS).status_code == 302
