"""Order staff at work in the admin, in a real browser, in both deployment modes (in split, the orders role's admin):
find an order by the customer's e-mail, open it, ship it with carrier and tracking number, ship several from the
list after a confirmation page, and meet a clear answer (never a server error) for what the role must not do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.conftest import StaffMember
from tests.support.live_shop import Shop


def _order_page(shop: Shop, order: dict[str, Any]) -> str:
    return f"{shop.admin_url('orders')}/orders/order/{order['id']}/change/"


def test_order_staff_find_an_order_by_e_mail_and_ship_it(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any], place_order, screenshot) -> None:
    order = place_order("paid")
    page = signed_in(order_staff_member, "orders")

    page.goto(f"{shop.admin_url('orders')}/orders/order/")
    page.fill("#searchbar", order["customer"].email)
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert order["number"] in rows.first.inner_text()
    assert "paid" in rows.first.inner_text().lower()
    screenshot(page, "order-list-search-by-email")

    rows.first.locator("a", has_text=order["number"]).click()
    page.wait_for_load_state()
    assert page.locator("input[name=_save]").count() == 0  # nothing on an order is edited as a form
    offered = sorted(page.locator("a.status-action").evaluate_all("links => links.map(l => l.dataset.action)"))
    assert offered == ["cancel", "ship"]
    assert order["customer"].email in page.content()
    screenshot(page, "order-detail-paid")

    page.click("a.status-action[data-action=ship]")
    page.wait_for_load_state()
    page.click("input[name=confirm]")  # nothing filled in: the browser itself asks for both, nothing is sent
    assert page.locator("input[name=carrier]:invalid").count() == 1
    assert page.locator("input[name=tracking_number]:invalid").count() == 1
    assert page.url.rstrip("/").endswith("/ship")
    page.fill("input[name=carrier]", "UPS")
    page.fill("input[name=tracking_number]", "1Z999AA10123456784")
    screenshot(page, "order-ship-form")
    page.click("input[name=confirm]")
    page.wait_for_load_state()

    assert page.url.rstrip("/").endswith(f"{order['id']}/change")
    assert "Shipped with UPS, tracking number 1Z999AA10123456784" in page.locator(".messagelist").inner_text()
    assert "1Z999AA10123456784" in page.locator(".field-tracking_number").inner_text()
    assert order_staff_member.email in page.locator("#status_changes-group").inner_text()
    assert sorted(page.locator("a.status-action").evaluate_all("l => l.map(a => a.dataset.action)")) == ["deliver"]
    screenshot(page, "order-detail-shipped")
    with shop.client(order["customer"].token) as own:
        assert own.get(f"/orders/{order['id']}").json()["status"] == "shipped"


def test_order_staff_ship_several_orders_from_the_list(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any], place_order, screenshot) -> None:
    first, second, pending = place_order("paid"), place_order("paid"), place_order("pending")
    page = signed_in(order_staff_member, "orders")
    page.goto(f"{shop.admin_url('orders')}/orders/order/")

    for order in (first, second, pending):
        page.check(f"input.action-select[value='{order['id']}']")
    page.select_option("select[name=action]", "mark_shipped")
    page.click("button[name=index]")
    page.wait_for_load_state()
    assert pending["number"] in page.locator(".left-alone").inner_text()
    page.fill("input[name=carrier]", "DHL")
    page.fill(f"input[name='tracking_{first['id']}']", "JD-FIRST")
    page.fill(f"input[name='tracking_{second['id']}']", "JD-SECOND")
    screenshot(page, "orders-bulk-ship-confirmation")
    page.click("input[name=apply]")
    page.wait_for_load_state()

    assert "Shipped:" in page.locator(".messagelist").inner_text()
    with shop.client(shop.staff_token("orders@example.com")) as staff_api:
        statuses = [staff_api.get(f"/orders/{o['id']}").json()["status"] for o in (first, second, pending)]
    assert statuses == ["shipped", "shipped", "pending"]


def test_a_forced_illegal_action_is_explained_not_a_server_error(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any], place_order, screenshot) -> None:
    order = place_order("pending")
    page = signed_in(order_staff_member, "orders")

    answer = page.goto(f"{_order_page(shop, order).removesuffix('change/')}ship/")

    assert answer.status == 200  # after the redirect back to the order
    assert page.url.rstrip("/").endswith(f"{order['id']}/change")
    assert "Nothing was changed" in page.locator(".messagelist .error").inner_text()
    screenshot(page, "order-illegal-action-refused")


def test_order_staff_read_products_but_cannot_change_them(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any], make_product, screenshot) -> None:
    product = make_product()
    page = signed_in(order_staff_member, "products")

    page.goto(f"{shop.admin_url('products')}/products/product/?q={product['sku']}")
    assert product["sku"] in page.locator("#result_list").inner_text()
    assert page.locator("select[name=action]").count() == 0  # no "deactivate", no bulk action at all
    page.goto(f"{shop.admin_url('products')}/products/product/{product['id']}/change/")
    assert page.locator("input[name=_save]").count() == 0
    screenshot(page, "order-staff-product-read-only")

    refused = page.goto(f"{shop.admin_url('products')}/products/product/add/")
    assert refused.status == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert page.locator("h2", has_text="Permission denied").is_visible()
    screenshot(page, "admin-403-page")


def test_order_staff_cannot_see_users_and_errors_are_admin_pages(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any], screenshot) -> None:
    page = signed_in(order_staff_member, "users")

    refused = page.goto(f"{shop.admin_url('users')}/users/user/")
    missing = page.goto(f"{shop.admin_url('users')}/no-such-page/")

    assert refused.status == 403
    assert missing.status == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert page.locator("h2", has_text="Page not found").is_visible()
    screenshot(page, "admin-404-page")
