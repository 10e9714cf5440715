"""Bulk activate, deactivate and reprice: a confirmation page first, nothing changed before it is confirmed, then
one change through the products services (validated, all or nothing, caches told)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.products import services
from apps.products.models import Product
from ecommerce import cache_versions
from ecommerce.contracts.products import CATALOG_VERSION
from ecommerce.errors import ValidationFailed
from ecommerce.roles import Role

pytestmark = pytest.mark.django_db
LIST = "/admin/products/product/"


def action(client, name: str, products, **extra):
    return client.post(LIST, {"action": name, "_selected_action": [product.pk for product in products], **extra})


def test_bulk_deactivate_asks_first_then_withdraws_and_tells_the_caches(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    lamp, desk, kept = make_product(sku="LAMP"), make_product(sku="DESK"), make_product(sku="KEPT")

    page = action(client, "deactivate_selected", [lamp, desk])
    assert page.status_code == 200
    assert b"Withdraw these 2 product(s)" in page.content
    assert b"LAMP" in page.content
    assert Product.objects.filter(is_active=True).count() == 3  # nothing yet

    version_before = cache_versions.read(CATALOG_VERSION)
    done = action(client, "deactivate_selected", [lamp, desk], confirmed="yes")
    assert done.status_code == 302
    assert set(Product.objects.filter(is_active=False).values_list("sku", flat=True)) == {"LAMP", "DESK"}
    assert Product.objects.get(pk=kept.pk).is_active
    assert cache_versions.read(CATALOG_VERSION) != version_before

    assert action(client, "activate_selected", [lamp], confirmed="yes").status_code == 302
    assert Product.objects.get(pk=lamp.pk).is_active


def test_bulk_reprice_asks_the_percent_previews_new_prices_then_applies_them(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    lamp, desk = make_product(sku="LAMP", price="19.99"), make_product(sku="DESK", price="100.00")

    ask = action(client, "reprice_selected", [lamp, desk])
    assert ask.status_code == 200
    assert b'name="percent"' in ask.content
    preview = action(client, "reprice_selected", [lamp, desk], percent="-10")
    assert preview.status_code == 200
    assert "19.99 → 17.99" in preview.content.decode()
    assert "100.00 → 90.00" in preview.content.decode()
    assert Product.objects.get(pk=lamp.pk).price == Decimal("19.99")  # nothing yet

    assert action(client, "reprice_selected", [lamp, desk], percent="-10", confirmed="yes").status_code == 302
    assert (Product.objects.get(pk=lamp.pk).price, Product.objects.get(pk=desk.pk).price) == (
        Decimal("17.99"), Decimal("90.00"))


def test_bulk_reprice_is_all_or_nothing_when_a_fixed_discount_would_exceed_the_price(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    plain = make_product(sku="PLAIN", price="10.00")
    discounted = make_product(sku="DISCOUNTED", price="10.00", discount_type="fixed", discount_value=Decimal("9"))

    response = action(client, "reprice_selected", [plain, discounted], percent="-50", confirmed="yes")

    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("DISCOUNTED" in message and "nothing was changed" in message for message in messages)
    assert set(Product.objects.values_list("price", flat=True)) == {Decimal("10.00")}


@pytest.mark.parametrize("percent", [Decimal("0"), Decimal("-100"), Decimal("1000.01")])
def test_bulk_reprice_refuses_a_senseless_percent(make_product, percent):
    product = make_product(price="10.00")
    with pytest.raises(ValidationFailed):
        services.product_bulk_reprice(product_ids=[product.pk], percent=percent)
    assert Product.objects.get(pk=product.pk).price == Decimal("10.00")


def test_a_bad_percent_in_the_form_is_asked_again(admin_client_for, make_product):
    client = admin_client_for(Role.CATALOG_STAFF)
    product = make_product(price="10.00")
    response = action(client, "reprice_selected", [product], percent="abc", confirmed="yes")
    assert response.status_code == 200
    assert b'name="percent"' in response.content
    assert Product.objects.get(pk=product.pk).price == Decimal("10.00")


def test_order_staff_are_offered_no_bulk_action_and_forcing_one_changes_nothing(admin_client_for, make_product):
    client = admin_client_for(Role.ORDER_STAFF)
    product = make_product()
    page = client.get(LIST)
    assert b'name="action"' not in page.content  # no bulk action at all, export included
    assert b"deactivate_selected" not in page.content
    assert b"reprice_selected" not in page.content
    action(client, "deactivate_selected", [product], confirmed="yes")
    assert Product.objects.get(pk=product.pk).is_active
