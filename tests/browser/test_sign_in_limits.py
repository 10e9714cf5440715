"""The admin's sign-in counts against the API's login limits, in the same counters, whichever process serves it: an
account locked by wrong passwords at the API cannot sign in to the admin with the right one (in split, the orders
role's admin, which shares the counters with the gateway through Redis)."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import StaffMember, sign_in
from tests.support.live_shop import SERVER_ENV, Shop, needs_shared_cache


def test_a_lock_from_wrong_api_passwords_also_closes_the_admin(shop: Shop, page: Any,
                                                               order_staff_member: StaffMember, screenshot) -> None:
    needs_shared_cache(shop)
    limit = int(SERVER_ENV["ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP"].split("/")[0])
    with shop.client() as guest:
        answers = [guest.post("/auth/login", json={"email": order_staff_member.email, "password": "wrong"})
                   for _ in range(limit)]
    assert [answer.status_code for answer in answers] == [401] * limit

    refused = sign_in(page, shop.admin_url("orders"), order_staff_member.email, order_staff_member.password)

    assert refused.status == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert page.locator("#site-name").inner_text().startswith("Shop admin")
    assert page.locator("h2").inner_text() == "Sign-in locked (429)"
    message = page.locator("#content p").first.inner_text()
    assert message.startswith("Too many failed sign-ins: this account is locked for sign-ins from your network.")
    assert re.search(r"Try again in (less than a minute|about a minute|about \d+ minutes)", message)
    screenshot(page, "admin-sign-in-locked")
    assert page.goto(f"{shop.admin_url('orders')}/").url.split("?")[0].endswith("/admin/login/")
