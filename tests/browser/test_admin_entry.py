"""Who may enter the admin, seen in the browser: staff sign in with their normal e-mail and password (in a split
deployment, on the admin of the role that owns the app); a customer with a correct password is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecommerce.roles import Role
from tests.browser.conftest import StaffMember, sign_in
from tests.support.live_shop import Shop


def test_order_staff_sign_in_with_their_shop_password_and_see_the_orders(
        shop: Shop, order_staff_member: StaffMember, signed_in: Callable[..., Any],
        screenshot: Callable[..., Any]) -> None:
    page = signed_in(order_staff_member, "orders")

    assert page.locator("#user-tools").inner_text().upper().count(order_staff_member.email.upper()) == 1
    assert page.locator("a", has_text="Orders").first.is_visible()
    screenshot(page, "order-staff-admin-index")


def test_a_customer_cannot_enter_the_admin_even_with_the_right_password(
        shop: Shop, page: Any, make_staff: Callable[[Role], StaffMember], screenshot: Callable[..., Any]) -> None:
    customer = make_staff(Role.CUSTOMER)

    sign_in(page, shop.admin_url("orders"), customer.email, customer.password)

    assert "/login/" in page.url
    assert page.locator(".errornote").is_visible()
    assert page.locator("#user-tools").count() == 0
    screenshot(page, "customer-refused-at-admin-sign-in")
