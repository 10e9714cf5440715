"""The product list catalog staff work in: search (with the catalog search's typo tolerance), filters, sorting by
price, effective price and available stock, thumbnails; and the category tree."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.products import services
from ecommerce.contracts.products import StockLine
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db
LIST = "/admin/products/product/"


def listed(client, query: str = "") -> list[str]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return [product.sku for product in response.context["cl"].result_list]


@pytest.fixture
def catalog_staff(admin_client_for):
    return admin_client_for(Role.CATALOG_STAFF)


def test_search_finds_sku_and_name(catalog_staff, make_product):
    make_product("Wireless Headphones", sku="AUD-001")
    make_product("Desk Lamp", sku="LMP-7")
    assert listed(catalog_staff, "q=aud-0") == ["AUD-001"]
    assert listed(catalog_staff, "q=lamp") == ["LMP-7"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="typo tolerance uses PostgreSQL's trigram index")
def test_search_tolerates_a_typo_like_the_shop_search(catalog_staff, make_product):
    make_product("Wireless Headphones", sku="AUD-001")
    make_product("Garden Hose", sku="GRD-1")
    assert listed(catalog_staff, "q=headphnes") == ["AUD-001"]
    assert listed(catalog_staff, "q=zzqxv") == []


def test_stock_level_filters(catalog_staff, make_product, settings):
    settings.ECOMMERCE_LOW_STOCK_THRESHOLD = 5
    make_product(sku="PLENTY", stock=6)
    make_product(sku="LOW", stock=5)
    make_product(sku="EMPTY", stock=0)
    reserved = make_product(sku="RESERVED", stock=3)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=reserved.pk, quantity=3)])
    assert sorted(listed(catalog_staff, "stock=out")) == ["EMPTY", "RESERVED"]
    assert listed(catalog_staff, "stock=low") == ["LOW"]
    assert listed(catalog_staff, "stock=in") == ["PLENTY"]


def test_discount_live_now_filter(catalog_staff, make_product):
    now = timezone.now()
    make_product(sku="LIVE", discount_type="percent", discount_value=Decimal("10"))
    make_product(sku="ENDED", discount_type="percent", discount_value=Decimal("10"),
                 discount_ends_at=now - timedelta(hours=1))
    make_product(sku="LATER", discount_type="fixed", discount_value=Decimal("1"),
                 discount_starts_at=now + timedelta(hours=1))
    make_product(sku="NONE")
    assert listed(catalog_staff, "discount=live") == ["LIVE"]
    assert sorted(listed(catalog_staff, "discount=not_live")) == ["ENDED", "LATER", "NONE"]


def test_category_filter_includes_sub_categories_and_activity_filter(catalog_staff, make_product, make_category):
    home = make_category("Home")
    lamps = make_category("Lamps", parent=home)
    garden = make_category("Garden")
    make_product(sku="SOFA", category=home)
    make_product(sku="LAMP", category=lamps, is_active=False)
    make_product(sku="HOSE", category=garden)
    assert sorted(listed(catalog_staff, f"category={home.pk}")) == ["LAMP", "SOFA"]
    assert listed(catalog_staff, f"category={home.pk}&is_active__exact=0") == ["LAMP"]


def test_sorting_by_price_effective_price_and_available_stock(catalog_staff, make_product):
    make_product(sku="A", price="30.00", stock=1)
    make_product(sku="B", price="20.00", stock=9, discount_type="fixed", discount_value=Decimal("15"))  # 5.00
    make_product(sku="C", price="10.00", stock=4)
    columns = list(catalog_staff.get(LIST).context["cl"].list_display)
    price, effective, available = (columns.index(name) for name in ("price", "current_price", "available_stock"))
    assert listed(catalog_staff, f"o={price}") == ["C", "B", "A"]
    assert listed(catalog_staff, f"o={effective}") == ["B", "C", "A"]
    assert listed(catalog_staff, f"o=-{available}") == ["B", "C", "A"]


def test_thumbnails_when_an_image_url_is_set(catalog_staff, make_product):
    make_product(sku="PICTURED", image_url="https://img.example.com/lamp.jpg")
    make_product(sku="PLAIN")
    page = catalog_staff.get(LIST).content.decode()
    assert page.count('<img src="https://img.example.com/lamp.jpg"') == 1


def test_categories_are_shown_as_a_tree(catalog_staff, make_category):
    make_category("Garden")
    home = make_category("Home")
    lamps = make_category("Lamps", parent=home)
    make_category("Desk", parent=lamps)
    make_category("Beds", parent=home)
    response = catalog_staff.get("/admin/products/category/")
    rows = [(category.name, category.tree_depth) for category in response.context["cl"].result_list]
    assert rows == [("Garden", 0), ("Home", 0), ("Beds", 1), ("Lamps", 1), ("Desk", 2)]
    assert "└ Desk" in response.content.decode()


def test_a_fixed_discount_above_the_price_is_refused_in_the_admin(catalog_staff, make_product):
    product = make_product("Cheap Lamp", price="10.00")
    form = {"sku": product.sku, "name": product.name, "slug": product.slug, "price": "10.00",
            "discount_type": "fixed", "discount_value": "12.50", "is_active": "on"}
    response = catalog_staff.post(f"/admin/products/product/{product.pk}/change/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["discount_value"] == [
        "A fixed discount cannot be larger than the price (10.00)."]
    product.refresh_from_db()
    assert product.discount_type == "none"
