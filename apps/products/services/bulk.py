"""Writes of many products at once, chosen by staff in the admin: activate, deactivate, change prices by a percent.

Rules guarded here: every product is validated by the same rules as a single write (a price cut that would leave a
fixed discount above the price is refused), all or nothing, with the offending skus named; the rows are locked in
id order (the stock services' lock order) while they change; and, because ``QuerySet.update``/``bulk_update`` send
no ``post_save``, the catalog's caches are told here.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.products.invalidation import catalog_changed
from apps.products.models import Product
from apps.products.pricing import HUNDRED
from apps.products.services.products import clean_product, product_values
from apps.products.services.validation import Errors
from ecommerce.errors import ValidationFailed
from ecommerce.money import to_money

# A cut of 100 % or more would give goods away; a rise beyond tenfold is surely a typo.
MIN_PERCENT = Decimal("-99.99")
MAX_PERCENT = Decimal("1000")


def _locked(product_ids: Iterable[int]) -> list[Product]:
    return list(Product.objects.select_for_update().filter(pk__in=list(product_ids)).order_by("pk"))


def product_bulk_set_active(*, product_ids: Iterable[int], is_active: bool) -> int:
    """Put products on sale or withdraw them; returns how many changed (those already so are left alone)."""
    with transaction.atomic():
        changing = [product.pk for product in _locked(product_ids) if product.is_active != is_active]
        if changing:
            Product.objects.filter(pk__in=changing).update(is_active=is_active, updated_at=timezone.now())
            catalog_changed()
    return len(changing)


def repriced(price: Decimal, percent: Decimal) -> Decimal:
    return to_money(price * (HUNDRED + percent) / HUNDRED)


def product_bulk_reprice(*, product_ids: Iterable[int], percent: Decimal) -> int:
    """Change each product's price by ``percent`` (``-10`` takes a tenth off, ``5`` adds a twentieth), rounded to
    cents; discounts keep their own terms. Every product or none; returns how many were repriced."""
    if not (MIN_PERCENT <= percent <= MAX_PERCENT) or percent == 0:
        raise ValidationFailed(errors={"percent": [f"Must be between {MIN_PERCENT} and {MAX_PERCENT}, not zero."]})
    with transaction.atomic():
        products = _locked(product_ids)
        errors: Errors = {}
        for product in products:
            values = {**product_values(product), "price": repriced(product.price, percent)}
            product_errors, _ = clean_product(values, product_id=product.pk, check_unique=False,
                                              known_categories={product.category_id})
            for messages in product_errors.values():
                errors.setdefault(product.sku, []).extend(messages)
        if errors:
            raise ValidationFailed(f"{len(errors)} product(s) cannot take this price change; nothing was changed.",
                                   errors=errors)
        now = timezone.now()
        for product in products:
            product.price, product.updated_at = repriced(product.price, percent), now
        Product.objects.bulk_update(products, ["price", "updated_at"])
        if products:
            catalog_changed()
    return len(products)
