"""A catalog staffer's day in the admin, in a real browser, in both deployment modes: find a product, adjust its stock
with a reason and see the audit row; import a CSV whose preview names the one bad row, then import the good rows;
and meet the edges of the role (no orders, no users)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import StaffMember
from tests.support.live_shop import Shop


def create_product(shop: Shop, member: StaffMember, **fields: Any) -> dict[str, Any]:
    """A product made through the public API by the staffer, as another tool of theirs would."""
    with shop.client(shop.login(member.email, member.password)) as api:
        response = api.post("/products", json={"price": "20.00", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def product_in_api(shop: Shop, member: StaffMember, sku: str) -> dict[str, Any] | None:
    with shop.client(shop.login(member.email, member.password)) as api:
        found = api.get("/products", params={"search": sku})
    assert found.status_code == 200, found.text
    return next((product for product in found.json()["results"] if product["sku"] == sku), None)


def test_catalog_staff_adjust_stock_with_a_reason_and_see_it_audited(
        shop: Shop, catalog_staff_member: StaffMember, signed_in: Callable[..., Any],
        screenshot: Callable[..., Any]) -> None:
    sku = f"BRW-{uuid.uuid4().hex[:8].upper()}"
    admin_url = shop.admin_url("products")
    # A thumbnail from the shop's own static files: the browser may reach no other host.
    image = f"{admin_url.removesuffix('/admin')}/static/admin/img/icon-yes.svg"
    product = create_product(shop, catalog_staff_member, sku=sku, name="Browser Desk Lamp", stock=3, image_url=image)
    page = signed_in(catalog_staff_member, "products")

    page.goto(f"{admin_url}/products/product/?q={sku}")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator(f'#result_list img[src="{image}"]').count() == 1
    screenshot(page, "catalog-staff-product-list")

    page.click(f"#result_list a:text('{sku}')")
    page.click("a.stockadjustlink")
    assert page.locator("#stock-available").inner_text() == "3"
    page.fill("input[name=delta]", "12")
    page.fill("input[name=reason]", "Delivery note 4711")
    screenshot(page, "catalog-staff-adjust-stock")
    page.click("#stock-adjust-form input[type=submit]")

    assert f"Stock of {sku} changed by +12: 15 available now." in page.locator(".messagelist").inner_text()
    history = page.locator("table.stock-history").inner_text()
    assert "Delivery note 4711" in history
    assert catalog_staff_member.email in history
    assert re.search(r"\+12\s+3 → 15", history), history
    screenshot(page, "catalog-staff-product-with-stock-history")
    assert product_in_api(shop, catalog_staff_member, sku)["stock"] == product["stock"] + 12

    # A write-off of more than is there is refused on the form, and nothing changes.
    page.click("a.stockadjustlink")
    page.fill("input[name=delta]", "-16")
    page.fill("input[name=reason]", "Stock count")
    page.click("#stock-adjust-form input[type=submit]")
    assert "at most 15 can be written off" in page.locator(".errorlist").inner_text()
    assert product_in_api(shop, catalog_staff_member, sku)["stock"] == 15


def test_catalog_staff_import_a_csv_whose_preview_names_the_bad_row_then_the_good_rows(
        shop: Shop, catalog_staff_member: StaffMember, signed_in: Callable[..., Any],
        screenshot: Callable[..., Any]) -> None:
    run = uuid.uuid4().hex[:6].upper()
    header = "sku,name,price,discount_type,discount_value,is_active,stock\n"
    good = (f"CSV-{run}-1,Imported Lamp {run},19.90,none,0,1,12\n"
            f"CSV-{run}-2,Imported Shade {run},9.50,percent,10,1,4\n")
    bad = f"CSV-{run}-3,Imported Bulb {run},5.00,fixed,7.50,1,3\n"
    admin_url = shop.admin_url("products")
    page = signed_in(catalog_staff_member, "products")

    page.goto(f"{admin_url}/products/product/")
    page.click("a.import_link")
    upload(page, header + good + bad)

    # One invalid row, the third, with the rule it broke (the preview shows the details on hover).
    assert page.locator(".validation-error-count").all_inner_texts() == ["1"]
    invalid_row = page.locator("table.import-preview tr", has=page.locator(".validation-error-count"))
    assert f"CSV-{run}-3" in invalid_row.inner_text()
    assert "A fixed discount cannot be larger than the price (5.00)." in (
        page.locator(".validation-error-list").text_content())
    assert page.locator("input[name=confirm]").count() == 0  # nothing to confirm while a row is wrong
    screenshot(page, "catalog-staff-import-preview-with-row-error")
    assert product_in_api(shop, catalog_staff_member, f"CSV-{run}-1") is None  # the preview wrote nothing

    page.goto(f"{admin_url}/products/product/import/")
    upload(page, header + good)
    screenshot(page, "catalog-staff-import-preview")
    with page.expect_navigation():
        page.click("input[name=confirm]")

    assert "2 new" in page.locator(".messagelist").inner_text()
    imported = product_in_api(shop, catalog_staff_member, f"CSV-{run}-1")
    assert imported is not None
    assert (imported["price"], imported["stock"]) == ("19.90", 12)
    assert product_in_api(shop, catalog_staff_member, f"CSV-{run}-3") is None
    screenshot(page, "catalog-staff-after-import")


def upload(page: Any, csv_text: str) -> None:
    page.set_input_files("input[name=import_file]", files=[{
        "name": "products.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}])
    with page.expect_navigation():
        page.click("#content input[type=submit]")


def test_catalog_staff_cannot_open_orders_or_users(
        shop: Shop, catalog_staff_member: StaffMember, signed_in: Callable[..., Any],
        screenshot: Callable[..., Any]) -> None:
    page = signed_in(catalog_staff_member, "products")
    index = page.locator("#content-main")
    assert index.locator('a[href$="/products/product/"]').count() >= 1
    # Vouchers may be theirs (a price rule, in the orders app), orders and users are not.
    assert index.locator('a[href$="/orders/order/"]').count() == 0
    assert index.locator('a[href$="/users/user/"]').count() == 0
    screenshot(page, "catalog-staff-admin-index")

    for app, listing in (("orders", "orders/order/"), ("users", "users/user/")):
        response = page.goto(f"{shop.admin_url(app)}/{listing}")
        # The monolith refuses the signed-in staffer; a split role's admin does not know them until they sign in
        # there, and then refuses them too. Either way no list of orders or users is shown.
        if "/login/" in page.url:
            page.fill("input[name=username]", catalog_staff_member.email)
            page.fill("input[name=password]", catalog_staff_member.password)
            with page.expect_navigation() as navigation:
                page.click("input[type=submit]")
            response = navigation.value
        assert response is not None
        assert response.status == 403 or "/login/" in page.url, (response.status, page.url)
        assert page.locator("#result_list").count() == 0
        screenshot(page, f"catalog-staff-refused-{app}")
