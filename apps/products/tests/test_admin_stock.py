"""Stock in the admin: adjusted with a reason through the stock service, audited and shown on the product, never
below what open orders reserved; a new product's initial stock; the low-stock view; reservations only shown."""

from __future__ import annotations

import uuid

import pytest

from apps.products import services
from apps.products.models import Product, StockAdjustment
from ecommerce.contracts.products import StockLine
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db


def stock_url(product: Product) -> str:
    return f"/admin/products/product/{product.pk}/stock/"


def test_catalog_staff_adjust_stock_with_a_reason_and_see_it_on_the_product(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product("Hall Lamp", stock=4)
    page = client.get(f"/admin/products/product/{product.pk}/change/")
    assert stock_url(product).encode() in page.content  # the "Adjust stock" button

    response = client.post(stock_url(product), {"delta": "6", "reason": "Delivery note 881"})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/products/product/{product.pk}/change/"
    assert Product.objects.get(pk=product.pk).stock_on_hand == 10
    row = StockAdjustment.objects.get(product=product, source="admin")
    assert (row.delta, row.on_hand_before, row.on_hand_after, row.reason, row.actor_id, row.actor_email) == (
        6, 4, 10, "Delivery note 881", client.user.pk, client.user.email)
    page = client.get(f"/admin/products/product/{product.pk}/change/")
    assert b"Delivery note 881" in page.content
    assert client.user.email.encode() in page.content
    trail = client.get(f"/admin/products/stockadjustment/?product__id__exact={product.pk}")  # "all changes" link
    assert [row.reason for row in trail.context["cl"].result_list] == ["Delivery note 881", "Initial stock"]


def test_a_write_off_below_the_reserved_units_is_refused_with_the_reason_shown(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product(stock=5)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=3)])

    response = client.post(stock_url(product), {"delta": "-3", "reason": "Stock count"})

    assert response.status_code == 200  # the form again, with the error
    assert b"at most 2 can be written off" in response.content
    stored = Product.objects.get(pk=product.pk)
    assert (stored.stock_on_hand, stored.stock_reserved) == (5, 3)
    assert not StockAdjustment.objects.filter(product=product, source="admin").exists()


@pytest.mark.parametrize(("form", "field"), [
    ({"delta": "0", "reason": "Nothing"}, "delta"),
    ({"delta": "abc", "reason": "Typo"}, "delta"),
    ({"delta": "3", "reason": ""}, "reason"),
    ({"delta": "3", "reason": "x" * 256}, "reason"),
])
def test_bad_adjustments_are_redisplayed_and_change_nothing(admin_client_for, make_product, form, field):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product(stock=5)
    response = client.post(stock_url(product), form)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5


def test_order_staff_cannot_adjust_stock_and_unknown_products_are_404(admin_client_for, make_product):
    product = make_product(stock=5)
    order_staff = admin_client_for(Role.ORDER_STAFF)
    assert order_staff.post(stock_url(product), {"delta": "1", "reason": "x"}).status_code == 403
    assert stock_url(product).encode() not in order_staff.get(f"/admin/products/product/{product.pk}/change/").content
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5
    catalog_staff = admin_client_for(Role.CATALOG_STAFF)
    assert catalog_staff.get("/admin/products/product/987654/stock/").status_code == 404


def test_a_new_product_is_given_its_initial_stock_audited(admin_client_for):
    client = admin_client_for(Role.CATALOG_STAFF)
    assert b'name="initial_stock"' in client.get("/admin/products/product/add/").content
    response = client.post("/admin/products/product/add/", {
        "sku": "NEW-LAMP", "name": "New Lamp", "slug": "new-lamp", "price": "12.00", "discount_type": "none",
        "discount_value": "0", "is_active": "on", "initial_stock": "25"})
    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-LAMP")
    assert (product.stock_on_hand, product.stock_reserved) == (25, 0)
    row = StockAdjustment.objects.get(product=product)
    assert (row.delta, row.reason, row.source, row.actor_id) == (25, "Initial stock", "initial", client.user.pk)


def test_the_change_form_has_no_stock_field_and_a_stale_save_keeps_the_stock(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product("Form Lamp", stock=6)
    page = client.get(f"/admin/products/product/{product.pk}/change/")
    assert b'name="stock_on_hand"' not in page.content
    assert b'name="initial_stock"' not in page.content
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=2)])
    form = {"sku": product.sku, "name": "Form Lamp II", "slug": product.slug, "price": "10.00",
            "discount_type": "none", "discount_value": "0", "is_active": "on", "stock_on_hand": "99",
            "stock_reserved": "0"}
    assert client.post(f"/admin/products/product/{product.pk}/change/", form).status_code == 302
    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.stock_on_hand, stored.stock_reserved) == ("Form Lamp II", 6, 2)


def test_the_low_stock_view_lists_active_products_down_to_the_threshold_emptiest_first(
        admin_client_for, make_product, settings):
    settings.ECOMMERCE_LOW_STOCK_THRESHOLD = 5
    client = admin_client_for(Role.CATALOG_STAFF)
    make_product(sku="PLENTY", stock=6)
    make_product(sku="LOW-5", stock=5)
    make_product(sku="LOW-1", stock=1)
    make_product(sku="EMPTY", stock=0)
    make_product(sku="WITHDRAWN", stock=0, is_active=False)
    reserved = make_product(sku="ALL-RESERVED", stock=2)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=reserved.pk, quantity=2)])

    page = client.get("/admin/products/product/low-stock/")

    assert page.status_code == 200
    listed = [product.sku for product in page.context["page"].object_list]
    assert listed == ["ALL-RESERVED", "EMPTY", "LOW-1", "LOW-5"]
    assert b"/admin/products/product/low-stock/" in client.get("/admin/products/product/").content


def test_reservations_and_the_audit_trail_are_read_only_and_deleting_is_not_offered(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product(stock=5)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=product.pk, quantity=1)])
    reservation = product.reservations.get()
    adjustment = StockAdjustment.objects.get(product=product)

    for listing, row in (("stockreservation", reservation), ("stockadjustment", adjustment)):
        page = client.get(f"/admin/products/{listing}/")
        assert page.status_code == 200
        assert b"delete_selected" not in page.content
        assert b'name="action"' not in page.content
        detail = client.get(f"/admin/products/{listing}/{row.pk}/change/")
        assert detail.status_code == 200
        assert b"/delete/" not in detail.content
        assert b"permission" not in detail.content.lower()
        assert client.get(f"/admin/products/{listing}/{row.pk}/delete/").status_code == 404
    assert product.reservations.count() == 1


def test_deleting_an_ordered_product_withdraws_it_and_never_speaks_of_permissions(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    ordered = make_product(stock=5)
    never_ordered = make_product(stock=5)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=ordered.pk, quantity=1)])

    page = client.get(f"/admin/products/product/{ordered.pk}/delete/")
    assert page.status_code == 200
    assert b"withdrawn from the shop instead" in page.content
    assert b"permission" not in page.content.lower()
    assert b"Cannot delete" not in page.content

    assert client.post(f"/admin/products/product/{ordered.pk}/delete/", {"post": "yes"}).status_code == 302
    assert client.post(f"/admin/products/product/{never_ordered.pk}/delete/", {"post": "yes"}).status_code == 302
    assert Product.objects.get(pk=ordered.pk).is_active is False
    assert not Product.objects.filter(pk=never_ordered.pk).exists()
