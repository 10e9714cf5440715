"""Who sees what in the Django admin, by group, and how the admin answers what it refuses: catalog staff never see
orders or users, order staff read the catalog without changing it (no bulk action either), customers never enter,
and a refusal or a missing page inside the admin is an HTML page in the admin's look, while the API keeps problem
details. Browser tests (tests/browser) see the same in both deployment modes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from apps.products.models import Product
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.products import ProductInput, products_service
from ecommerce.contracts.users import UserDTO
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db


def signed_in_as(make_user: Callable[..., UserDTO], role: Role) -> Client:
    client = Client()
    assert client.login(username=make_user(role).email, password=DEFAULT_PASSWORD)
    return client


def assert_admin_html(response, status: int, words: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    page = response.content.decode()
    assert words in page
    assert 'href="/admin/"' in page


def test_catalog_staff_see_neither_orders_nor_users(make_user):
    catalog = signed_in_as(make_user, Role.CATALOG_STAFF)

    index = catalog.get("/admin/").content.decode()

    assert "/admin/products/product/" in index
    assert "/admin/orders/order/" not in index
    assert "/admin/orders/payment/" not in index
    assert "/admin/users/" not in index
    assert_admin_html(catalog.get("/admin/orders/order/"), 403, "Permission denied")
    assert_admin_html(catalog.get("/admin/orders/payment/"), 403, "Permission denied")
    assert_admin_html(catalog.get("/admin/users/user/"), 403, "Permission denied")


def test_order_staff_read_products_but_cannot_change_them(make_user):
    orders = signed_in_as(make_user, Role.ORDER_STAFF)
    product = products_service.product_create(product=ProductInput(sku="ADM-1", name="Teapot", price=Decimal("9.50"),
                                                                   stock=3))
    change_page = f"/admin/products/product/{product.id}/change/"

    listing = orders.get("/admin/products/product/").content.decode()
    detail = orders.get(change_page).content.decode()
    deactivate = orders.post("/admin/products/product/",
                             {"action": "deactivate", "_selected_action": [str(product.id)]})
    edit = orders.post(change_page, {"name": "Renamed", "price": "0.01", "is_active": ""})

    assert product.sku in listing
    assert 'name="action"' not in listing  # no bulk action offered at all
    assert product.sku in detail
    assert 'name="_save"' not in detail
    assert deactivate.status_code in {200, 302}
    assert_admin_html(edit, 403, "Permission denied")
    stored = Product.objects.get(pk=product.id)
    assert (stored.is_active, stored.name) == (True, product.name)


def test_customers_cannot_enter_the_admin_even_with_their_password(make_user):
    customer = make_user(Role.CUSTOMER)
    client = Client()

    answer = client.post("/admin/login/?next=/admin/", {"username": customer.email, "password": DEFAULT_PASSWORD})

    assert answer.status_code == 200
    assert "staff account" in answer.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_missing_admin_page_is_html_and_the_api_keeps_problem_details(make_user):
    staff = signed_in_as(make_user, Role.ORDER_STAFF)

    assert_admin_html(staff.get("/admin/no-such-page/"), 404, "Page not found")
    assert_admin_html(staff.get("/admin/orders/no-such-model/"), 404, "Page not found")
    api = staff.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404
    assert api["Content-Type"].startswith("application/problem+json")


def test_where_no_admin_is_served_admin_addresses_are_plain_api_misses(rf, monkeypatch):
    """The gateway of a split deployment has no admin (nor its templates): /admin/ there answers problem details."""
    from ecommerce import admin_error_pages
    from ecommerce.api.problems import not_found_view, permission_denied_view

    monkeypatch.setattr(admin_error_pages.django_apps, "is_installed", lambda app: app != "django.contrib.admin")

    for view, status in ((not_found_view, 404), (permission_denied_view, 403)):
        answer = view(rf.get("/admin/"))
        assert answer.status_code == status
        assert answer["Content-Type"].startswith("application/problem+json")


def test_every_admin_page_carries_the_shops_title_not_djangos(make_user):
    staff = signed_in_as(make_user, Role.ADMIN)

    for page in (staff.get("/admin/"), staff.get("/admin/no-such-page/"), Client().get("/admin/login/")):
        html = page.content.decode()
        assert "Shop admin" in html
        assert "Django administration" not in html
        assert "Django site admin" not in html


def test_a_split_roles_admin_names_its_role_from_the_same_place():
    from django.contrib.admin import AdminSite

    from ecommerce.admin_titles import title_admin_site

    site = title_admin_site(AdminSite(name="orders-admin"), "orders")

    assert (site.site_header, site.site_title, site.index_title) == (
        "Shop admin: orders", "Shop admin (orders)", "Orders administration")
