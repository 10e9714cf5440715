"""Writes of products: create, replace, partial update, bulk create and delete.

Rules guarded here: a product is validated as a whole (a partial update is merged first), so no write can leave an
inconsistent discount or an unknown category; sku and slug are unique, and a lost unique race is a field error, never
an ``IntegrityError``; stock is never set here except as the initial stock of a new product (it moves only through
the stock services); a product that was ever reserved or ordered is deactivated instead of deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from apps.products.invalidation import catalog_changed
from apps.products.models import Category, DiscountType, Product, StockAdjustmentSource, StockReservation
from apps.products.pricing import HUNDRED
from apps.products.services.stock import record_stock_adjustment
from apps.products.services.validation import (
    MAX_STOCK,
    SLUG_RE,
    Errors,
    add_error,
    aware,
    money,
    optional_text,
    required_text,
    save_guarding_uniques,
    slug_errors,
    unique_slug,
)
from ecommerce.contracts.products import ProductChanges, ProductInput, StockActor
from ecommerce.errors import NotFound, ValidationFailed

BULK_BATCH_SIZE = 1000
INITIAL_STOCK_REASON = "Initial stock"
_url_validator = URLValidator()

PRODUCT_FIELDS = (
    "sku", "name", "slug", "short_description", "description", "category", "price", "discount_type",
    "discount_value", "discount_starts_at", "discount_ends_at", "image_url", "is_active",
)


def product_values(product: Product) -> dict[str, Any]:
    values = {field: getattr(product, field) for field in PRODUCT_FIELDS if field != "category"}
    values["category"] = product.category_id
    return values


def clean_product(values: dict[str, Any], *, product_id: int | None, check_unique: bool = True,
                   known_categories: set[int] | None = None) -> tuple[Errors, dict[str, Any]]:
    """Validate a whole product (create, replace, or the merge of a partial update) and return model field values.
    ``slug`` is returned as given; None or "" means "make it from the name"."""
    errors: Errors = {}
    sku = required_text(errors, "sku", values.get("sku"), 64)
    cleaned: dict[str, Any] = {
        "sku": sku,
        "name": required_text(errors, "name", values.get("name"), 200),
        "short_description": optional_text(errors, "short_description", values.get("short_description"), 300),
        "description": optional_text(errors, "description", values.get("description"), None),
        "price": money(errors, "price", values.get("price")),
        "discount_starts_at": aware(values.get("discount_starts_at")),
        "discount_ends_at": aware(values.get("discount_ends_at")),
        "image_url": optional_text(errors, "image_url", values.get("image_url"), 500),
    }
    if check_unique and "sku" not in errors and Product.objects.filter(sku=sku).exclude(pk=product_id).exists():
        add_error(errors, "sku", "A product with this SKU already exists.")

    slug = values.get("slug")
    cleaned["slug"] = slug
    if slug:
        if check_unique:
            slug_errors(errors, slug, model=Product, max_length=255, exclude_pk=product_id)
        elif len(slug) > 255 or not SLUG_RE.match(slug):
            add_error(errors, "slug", "Enter a valid slug of at most 255 letters, numbers, underscores or hyphens.")

    category_id = values.get("category")
    cleaned["category_id"] = category_id
    if category_id is not None:
        exists = (category_id in known_categories if known_categories is not None
                  else Category.objects.filter(pk=category_id).exists())
        if not exists:
            add_error(errors, "category", "Unknown category.")

    is_active = values.get("is_active")
    if is_active is None:
        add_error(errors, "is_active", "This field may not be null.")
    cleaned["is_active"] = bool(is_active)

    discount_type = values.get("discount_type")
    if discount_type not in DiscountType.values:
        add_error(errors, "discount_type", f"Must be one of: {', '.join(DiscountType.values)}.")
    cleaned["discount_type"] = discount_type
    if discount_type == DiscountType.NONE:
        cleaned["discount_value"] = Decimal("0.00")
    else:
        cleaned["discount_value"] = money(errors, "discount_value", values.get("discount_value"))
        if discount_type == DiscountType.PERCENT and cleaned["discount_value"] > HUNDRED:
            add_error(errors, "discount_value", "A percent discount must be between 0 and 100.")
        # Otherwise the product would silently sell for 0.00.
        if (discount_type == DiscountType.FIXED and "price" not in errors
                and cleaned["discount_value"] > cleaned["price"]):
            add_error(errors, "discount_value",
                      f"A fixed discount cannot be larger than the price ({cleaned['price']}).")

    starts, ends = cleaned["discount_starts_at"], cleaned["discount_ends_at"]
    if starts is not None and ends is not None and starts >= ends:
        add_error(errors, "discount_ends_at", "The discount must end after it starts.")

    if cleaned["image_url"]:
        try:
            _url_validator(cleaned["image_url"])
        except DjangoValidationError:
            add_error(errors, "image_url", "Enter a valid URL.")
    return errors, cleaned


def _product_conflicts(product: Product, *, slug_given: bool) -> Callable[[], Errors]:
    def check() -> Errors:
        errors: Errors = {}
        if Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
            add_error(errors, "sku", "A product with this SKU already exists.")
        if slug_given and Product.objects.filter(slug=product.slug).exclude(pk=product.pk).exists():
            add_error(errors, "slug", "This slug is already in use.")
        return errors

    return check


def _product_slug_maker(product: Product) -> Callable[[], str]:
    def make() -> str:
        return unique_slug(Product, product.name, max_length=255, fallback="product", exclude_pk=product.pk)

    return make


def _save_product(product: Product, *, slug: str | None) -> Product:
    make_slug = _product_slug_maker(product)
    product.slug = slug or make_slug()
    save_guarding_uniques(product, conflict_errors=_product_conflicts(product, slug_given=bool(slug)),
                          regenerate_slug=None if slug else make_slug)
    return product


def product_create(*, product: ProductInput, actor: StockActor | None = None,
                   source: str = StockAdjustmentSource.INITIAL) -> Product:
    """A new product; its initial stock is audited like any later receipt."""
    errors, cleaned = clean_product(product.model_dump(exclude={"stock"}), product_id=None)
    if product.stock > MAX_STOCK:
        add_error(errors, "stock", f"Ensure this value is less than or equal to {MAX_STOCK}.")
    if errors:
        raise ValidationFailed(errors=errors)
    slug = cleaned.pop("slug")
    instance = Product(**cleaned, stock_on_hand=product.stock)
    with transaction.atomic():
        _save_product(instance, slug=slug)
        if product.stock:
            record_stock_adjustment(instance, delta=product.stock, reason=INITIAL_STOCK_REASON, actor=actor,
                                    source=source)
    return instance


def product_replace(*, product_id: int, product: ProductInput) -> Product:
    """PUT: every field is replaced (an omitted slug is made again from the name); stock is ignored, it moves only
    through the stock calls."""
    instance = Product.objects.filter(pk=product_id).first()
    if instance is None:
        raise NotFound(f"Product {product_id} does not exist.")
    errors, cleaned = clean_product(product.model_dump(exclude={"stock"}), product_id=product_id)
    if errors:
        raise ValidationFailed(errors=errors)
    slug = cleaned.pop("slug")
    for field, value in cleaned.items():
        setattr(instance, field, value)
    return _save_product(instance, slug=slug)


def product_update(*, product_id: int, changes: ProductChanges) -> Product:
    """PATCH: only the fields set on ``changes`` change; the merged product is validated as a whole. A renamed
    product keeps its slug (links stay valid) unless a slug is given; ``slug=None`` makes a new one from the name."""
    instance = Product.objects.filter(pk=product_id).first()
    if instance is None:
        raise NotFound(f"Product {product_id} does not exist.")
    values = product_values(instance)
    given = changes.model_fields_set
    for field in given:
        values[field] = getattr(changes, field)
    if "slug" not in given:
        values["slug"] = instance.slug
    errors, cleaned = clean_product(values, product_id=product_id)
    if errors:
        raise ValidationFailed(errors=errors)
    slug = cleaned.pop("slug")
    for field, value in cleaned.items():
        setattr(instance, field, value)
    return _save_product(instance, slug=slug)


def product_bulk_create(*, products: list[ProductInput]) -> int:
    """Insert many products quickly; skus that already exist are skipped. Slugs are ``<name>-<sku>``, unique because
    skus are, so no per-row slug lookup is needed. Returns the number of rows inserted."""
    known_categories = set(
        Category.objects.filter(pk__in={p.category for p in products if p.category is not None})
        .values_list("id", flat=True)
    )
    errors: Errors = {}
    rows: dict[str, Product] = {}
    for index, item in enumerate(products):
        item_errors, cleaned = clean_product(item.model_dump(exclude={"stock"}), product_id=None,
                                              check_unique=False, known_categories=known_categories)
        if item.stock > MAX_STOCK:
            add_error(item_errors, "stock", f"Ensure this value is less than or equal to {MAX_STOCK}.")
        for field, messages in item_errors.items():
            errors[f"{index}.{field}"] = messages
        if item_errors or cleaned["sku"] in rows:
            continue
        name_slug = slugify(cleaned["name"])[:180].strip("-") or "product"
        slug = cleaned.pop("slug") or f"{name_slug}-{slugify(cleaned['sku'])}"
        rows[cleaned["sku"]] = Product(**cleaned, slug=slug[:255], stock_on_hand=item.stock)
    if errors:
        raise ValidationFailed(errors=errors)
    inserted = 0
    batch_list = list(rows.values())
    for start in range(0, len(batch_list), BULK_BATCH_SIZE):
        batch = batch_list[start:start + BULK_BATCH_SIZE]
        skus = [row.sku for row in batch]
        with transaction.atomic():
            before = Product.objects.filter(sku__in=skus).count()
            Product.objects.bulk_create(batch, batch_size=BULK_BATCH_SIZE, ignore_conflicts=True)
            inserted += Product.objects.filter(sku__in=skus).count() - before
            catalog_changed()  # bulk inserts send no post_save
    return inserted


def product_delete(*, product_id: int) -> bool:
    """Delete a product, or deactivate it if it was ever reserved or ordered (order history refers to it).
    Returns True when it was deactivated rather than deleted."""
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise NotFound(f"Product {product_id} does not exist.")
        if not StockReservation.objects.filter(product_id=product_id).exists():
            try:
                with transaction.atomic():
                    product.delete()
                return False
            except (ProtectedError, IntegrityError):
                pass  # a reservation arrived meanwhile: keep the product, as for any ordered one
        Product.objects.filter(pk=product_id).update(is_active=False, updated_at=timezone.now())
        catalog_changed()
        return True
