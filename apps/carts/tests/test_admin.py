"""Carts and checkout claims in the admin: visible to an admin, never changeable there."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from apps.carts import services
from apps.carts.models import CartClaim
from apps.carts.tests.conftest import USER
from conftest import DEFAULT_PASSWORD
from ecommerce.roles import Role

CLAIMS = "/admin/carts/cartclaim/"


@pytest.fixture
def admin_browser(make_user) -> Client:
    admin = make_user(Role.ADMIN)
    browser = Client()
    assert browser.login(username=admin.email, password=DEFAULT_PASSWORD)
    return browser


def test_an_admin_sees_a_claim_and_its_lines_but_cannot_change_them(admin_browser):
    services.cart_item_add(user_id=USER, product_id=77, quantity=3, available=10)
    order_id = uuid.uuid4()
    services.cart_claim(user_id=USER, order_id=order_id)
    claim = CartClaim.objects.get(order_id=order_id)

    listing = admin_browser.get(CLAIMS, {"q": str(order_id)})
    detail = admin_browser.get(f"{CLAIMS}{claim.pk}/change/")
    add = admin_browser.get(f"{CLAIMS}add/")
    delete = admin_browser.post(f"{CLAIMS}{claim.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert str(order_id) in listing.content.decode()
    assert detail.status_code == 200
    assert "Open: the checkout is running" in detail.content.decode()
    assert (add.status_code, delete.status_code) == (403, 403)
    assert CartClaim.objects.filter(pk=claim.pk, status="open").exists()
    assert claim.lines.get().quantity == 3
