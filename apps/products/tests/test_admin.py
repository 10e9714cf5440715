"""The Django admin serves the catalog to catalog staff (full) and order staff (read-only), through the groups the
data migration grants; stock quantities are never editable there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from apps.products.models import Product
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db


def admin_client(make_user, role: Role) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=make_user(role).id))
    return client


def test_migration_grants_catalog_permissions_to_the_groups():
    catalog = set(Group.objects.get(name="catalog_staff").permissions.filter(
        content_type__app_label="products").values_list("codename", flat=True))
    orders = set(Group.objects.get(name="order_staff").permissions.filter(
        content_type__app_label="products").values_list("codename", flat=True))
    assert catalog == {f"{action}_{model}" for action in ("add", "change", "delete", "view")
                       for model in ("category", "product")} | {"view_stockreservation", "view_stockadjustment"}
    assert orders == {"view_category", "view_product", "view_stockreservation"}


def test_catalog_staff_manages_products_in_the_admin(make_user, make_product):
    client = admin_client(make_user, Role.CATALOG_STAFF)
    product = make_product("Admin Lamp", stock=4)
    assert client.get("/admin/products/product/").status_code == 200
    assert client.get("/admin/products/product/?q=Admin").status_code == 200
    assert client.get("/admin/products/category/add/").status_code == 200
    page = client.get(f"/admin/products/product/{product.pk}/change/")
    assert page.status_code == 200
    assert b'name="stock_on_hand"' not in page.content


def test_admin_form_applies_the_product_rules(make_user, make_product):
    client = admin_client(make_user, Role.CATALOG_STAFF)
    product = make_product("Rule Lamp", price="10.00", stock=4)
    form = {"sku": product.sku, "name": product.name, "slug": product.slug, "price": "10.00",
            "discount_type": "percent", "discount_value": "150", "is_active": "on",
            "short_description": "", "description": "", "image_url": "", "category": "",
            "stock_on_hand": "999"}
    response = client.post(f"/admin/products/product/{product.pk}/change/", form)
    assert response.status_code == 200  # form redisplayed with errors
    assert Product.objects.get(pk=product.pk).discount_type == "none"

    form["discount_value"] = "50"
    response = client.post(f"/admin/products/product/{product.pk}/change/", form)
    assert response.status_code == 302
    stored = Product.objects.get(pk=product.pk)
    assert (stored.discount_value, stored.stock_on_hand) == (Decimal("50.00"), 4)


def test_order_staff_only_views_the_catalog(make_user, make_product):
    client = admin_client(make_user, Role.ORDER_STAFF)
    make_product()
    assert client.get("/admin/products/product/").status_code == 200
    assert client.get("/admin/products/product/add/").status_code == 403


def test_customers_do_not_reach_the_admin(make_user):
    client = admin_client(make_user, Role.CUSTOMER)
    assert client.get("/admin/products/product/").status_code == 302  # to the login page


def test_admin_refuses_a_category_cycle(make_user, make_category):
    client = admin_client(make_user, Role.CATALOG_STAFF)
    root = make_category("Root")
    child = make_category("Child", parent=root)
    response = client.post(f"/admin/products/category/{root.pk}/change/",
                           {"name": "Root", "slug": root.slug, "description": "", "parent": child.pk})
    assert response.status_code == 200  # redisplayed with the error
    root.refresh_from_db()
    assert root.parent_id is None
