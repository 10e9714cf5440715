"""The API's documentation as a developer uses it: Swagger UI at /api/docs/ loads from the shop alone (its assets
are served locally; the page fixture fails any request to another host), "Authorize" takes an access token, and
"Try it out" on GET /api/v1/products sends it and shows the 200 answer."""

from __future__ import annotations

from typing import Any

from tests.support.live_shop import Customer, Shop

PRODUCTS_PATH = "/api/v1/products"


def test_swagger_ui_authorizes_and_tries_the_product_list(shop: Shop, page: Any, customer: Customer,
                                                         screenshot) -> None:
    page.goto(f"{shop.base_url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    screenshot(page, "api-docs")

    page.click(".swagger-ui .auth-wrapper .authorize")
    # The dialog has a form per security scheme (the bearer token, and the guest cart token of the cart endpoints).
    bearer = page.locator(".swagger-ui .dialog-ux form", has_text="jwtAuth")
    bearer.locator("input").fill(customer.token)
    bearer.locator("button[type=submit]", has_text="Authorize").click()
    bearer.locator("button", has_text="Logout").wait_for()  # the token is held
    bearer.locator("button", has_text="Close").click()

    operation = page.locator(f".opblock-get:has(.opblock-summary-path[data-path='{PRODUCTS_PATH}'])").first
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    with page.expect_request(lambda request: request.url.split("?")[0].endswith(PRODUCTS_PATH)) as sent:
        operation.locator(".execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    screenshot(page, "api-docs-try-it-out")

    assert sent.value.headers.get("authorization") == f"Bearer {customer.token}"
    assert status.inner_text().strip() == "200"
    assert '"results"' in operation.locator(".live-responses-table .response-col_description pre").first.inner_text()
