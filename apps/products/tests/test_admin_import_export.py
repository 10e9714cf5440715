"""CSV import and export of products: a dry-run preview with row-level errors that writes nothing, then an import
of a clean file through the products services (rules, initial stock audited), and an export of the list."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.products.models import Product, StockAdjustment
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db
IMPORT = "/admin/products/product/import/"
HEADER = "sku,name,category,price,discount_type,discount_value,is_active,stock\n"


def upload(client, text: str):
    return client.post(IMPORT, {"format": "0", "import_file": SimpleUploadedFile("products.csv", text.encode(),
                                                                                 content_type="text/csv")})


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post("/admin/products/product/process_import/", form.initial)


def row_errors(preview) -> dict[int, dict[str, list[str]]]:
    """Row number (from 1) → column → messages, as the preview lists them."""
    return {row.number: {field: [str(message) for message in messages] for field, messages in row.error_dict.items()}
            for row in preview.context["result"].invalid_rows}


@pytest.fixture
def catalog_staff(admin_client_for):
    return admin_client_for(Role.CATALOG_STAFF)


def test_the_preview_shows_row_errors_and_writes_nothing_then_the_good_rows_import(catalog_staff, make_category):
    make_category("Lamps", slug="lamps")
    good = ("LAMP-1,Desk Lamp,lamps,19.90,none,0,1,12\n"
            "LAMP-2,Floor Lamp,,49.00,percent,10,1,0\n")
    bad = "LAMP-3,Cheap Lamp,lamps,5.00,fixed,7.50,1,3\n"

    preview = upload(catalog_staff, HEADER + good + bad)

    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is None  # nothing to confirm while a row is wrong
    errors = row_errors(preview)
    assert list(errors) == [3]
    assert errors[3]["discount_value"] == ["A fixed discount cannot be larger than the price (5.00)."]
    assert "A fixed discount cannot be larger than the price" in preview.content.decode()
    assert not Product.objects.exists()

    preview = upload(catalog_staff, HEADER + good)
    assert preview.context["confirm_form"] is not None
    assert not Product.objects.exists()  # a dry run still
    assert confirm(catalog_staff, preview).status_code == 302

    lamp = Product.objects.get(sku="LAMP-1")
    assert (lamp.name, lamp.category.slug, lamp.price, lamp.stock_on_hand, lamp.slug) == (
        "Desk Lamp", "lamps", Decimal("19.90"), 12, "desk-lamp")
    received = StockAdjustment.objects.get(product=lamp)
    assert (received.delta, received.source, received.actor_id) == (12, "import", catalog_staff.user.pk)
    assert Product.objects.get(sku="LAMP-2").discount_value == Decimal("10.00")


@pytest.mark.parametrize(("line", "field"), [
    ("X-1,Lamp,nowhere,1.00,none,0,1,1", "category"),
    ("X-1,Lamp,,abc,none,0,1,1", "price"),
    ("X-1,,,1.00,none,0,1,1", "name"),
    ("X-1,Lamp,,1.00,bogus,0,1,1", "discount_type"),
    ("X-1,Lamp,,1.00,none,0,1,-4", "stock"),
])
def test_each_bad_cell_is_a_row_error_naming_its_column(catalog_staff, line, field):
    preview = upload(catalog_staff, HEADER + line + "\n")
    assert preview.status_code == 200
    assert field in row_errors(preview)[1]
    assert not Product.objects.exists()


def test_reimporting_changes_existing_products_but_never_their_stock(catalog_staff, make_product):
    product = make_product("Old Name", sku="KEEP-1", price="10.00", stock=7)
    preview = upload(catalog_staff, HEADER + "KEEP-1,New Name,,12.00,none,0,1,500\n")
    assert confirm(catalog_staff, preview).status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price, product.stock_on_hand, product.slug) == (
        "New Name", Decimal("12.00"), 7, product.slug)


def test_export_writes_the_filtered_list_as_csv(catalog_staff, make_product, make_category):
    lamps = make_category("Lamps", slug="lamps")
    make_product("Desk Lamp", sku="LAMP-1", category=lamps, price="19.90", stock=4)
    make_product("Hose", sku="HOSE-1", price="5.00", is_active=False)

    response = catalog_staff.post("/admin/products/product/export/?is_active__exact=1",
                                  {"format": "0", "export_items": [], "productresource_sku": "on",
                                   "productresource_name": "on", "productresource_category": "on",
                                   "productresource_price": "on", "productresource_stock": "on"})

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [{"sku": "LAMP-1", "name": "Desk Lamp", "category": "lamps", "price": "19.90", "stock": "4"}]


def test_the_import_page_says_how_rows_and_stock_are_read(catalog_staff):
    page = catalog_staff.get(IMPORT).content.decode()
    assert "initial stock of a new product and is ignored for an existing one" in page


def test_order_staff_may_export_but_not_import(admin_client_for):
    client = admin_client_for(Role.ORDER_STAFF)
    assert client.get(IMPORT).status_code == 403
    assert upload(client, HEADER + "X-1,Lamp,,1.00,none,0,1,1\n").status_code == 403
    assert not Product.objects.exists()
