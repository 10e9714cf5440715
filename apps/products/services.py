"""Writes of the products context: categories, products, stock and reservations.

Rules guarded here:
- Every bad input becomes ``ValidationFailed`` with field errors, including the unique races that only the database
  can decide (sku, slug): no ``IntegrityError`` ever leaves this module.
- Stock moves only through conditional ``UPDATE`` statements built on ``F`` expressions, so concurrent writers never
  read-modify-write; the database CHECK constraints are the last line of defence (0 <= reserved <= on hand).
- Reservations are keyed by order id and every reservation call is idempotent, because the orders saga retries them.
- Products are locked in ascending id order so two checkouts touching the same products cannot deadlock.
- A ``stock.low`` event is written in the same transaction as the change that drops available stock to the
  threshold (``settings.ECOMMERCE_LOW_STOCK_THRESHOLD``) from above it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from apps.products.models import Category, DiscountType, Product, ReservationStatus, StockReservation
from apps.products.pricing import CENT, HUNDRED
from ecommerce.contracts.products import CategoryChanges, CategoryInput, ProductChanges, ProductInput
from ecommerce.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from ecommerce.events.outbox import record_event

MAX_MONEY = Decimal("9999999999.99")  # what DecimalField(max_digits=12, decimal_places=2) can hold
MAX_STOCK = 2_147_483_647  # PositiveIntegerField on PostgreSQL
BULK_BATCH_SIZE = 1000
STALE_RESERVATION_AGE = timedelta(minutes=10)
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_SAVE_ATTEMPTS = 3
_url_validator = URLValidator()

Errors = dict[str, list[str]]


# --- shared helpers -------------------------------------------------------------------------------------------------

def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _required_text(errors: Errors, field: str, value: Any, max_length: int | None) -> str:
    if value is None:
        _add(errors, field, "This field may not be null.")
        return ""
    text = str(value).strip()
    if not text:
        _add(errors, field, "This field may not be blank.")
    elif max_length is not None and len(text) > max_length:
        _add(errors, field, f"Ensure this field has no more than {max_length} characters.")
    return text


def _optional_text(errors: Errors, field: str, value: Any, max_length: int | None) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        _add(errors, field, f"Ensure this field has no more than {max_length} characters.")
    return text


def _money(errors: Errors, field: str, value: Any) -> Decimal:
    if value is None:
        _add(errors, field, "This field may not be null.")
        return Decimal("0.00")
    try:
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        _add(errors, field, "A valid number is required.")
        return Decimal("0.00")
    if amount < 0:
        _add(errors, field, "Ensure this value is greater than or equal to 0.")
    elif amount > MAX_MONEY:
        _add(errors, field, f"Ensure this value is less than or equal to {MAX_MONEY}.")
    elif amount != amount.quantize(CENT):
        _add(errors, field, "Ensure that there are no more than 2 decimal places.")
    else:
        return amount.quantize(CENT)
    return Decimal("0.00")


def _aware(value: datetime | None) -> datetime | None:
    # A timestamp without a zone is read as UTC, the API's only zone.
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value


def _slug_errors(errors: Errors, slug: str, *, model: type[models.Model], max_length: int, exclude_pk: int | None):
    if len(slug) > max_length:
        _add(errors, "slug", f"Ensure this field has no more than {max_length} characters.")
    elif not _SLUG_RE.match(slug):
        _add(errors, "slug", "Enter a valid slug: letters, numbers, underscores or hyphens.")
    elif model._default_manager.filter(slug=slug).exclude(pk=exclude_pk).exists():
        _add(errors, "slug", "This slug is already in use.")


def unique_slug(model: type[models.Model], source: str, *, max_length: int, fallback: str,
                exclude_pk: int | None = None) -> str:
    """``source`` slugified, with ``-2``, ``-3``... appended until no other row uses it (one query)."""
    base = slugify(source)[: max_length - 8].strip("-") or fallback
    taken = set(
        model._default_manager.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _save_guarding_uniques(instance: models.Model, *, conflict_errors: Callable[[], Errors],
                           regenerate_slug: Callable[[], str] | None) -> None:
    """Save, turning a lost unique race into field errors; an auto-made slug that lost its race is made again."""
    for attempt in range(_SAVE_ATTEMPTS):
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError as error:
            errors = conflict_errors()
            if errors:
                raise ValidationFailed(errors=errors) from error
            if regenerate_slug is None or attempt == _SAVE_ATTEMPTS - 1:
                raise ValidationFailed("The change conflicts with another one; please retry.") from error
            instance.slug = regenerate_slug()  # type: ignore[attr-defined]


# --- categories -----------------------------------------------------------------------------------------------------

def _category_parents() -> dict[int, int | None]:
    return dict(Category.objects.values_list("id", "parent_id"))


def category_errors(*, name: Any, slug: str | None, parent_id: int | None, category_id: int | None,
                     description: Any) -> tuple[Errors, dict[str, Any]]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {
        "name": _required_text(errors, "name", name, 120),
        "description": _optional_text(errors, "description", description, None),
        "parent_id": parent_id,
    }
    if slug:
        _slug_errors(errors, slug, model=Category, max_length=140, exclude_pk=category_id)
    if parent_id is not None:
        parents = _category_parents()
        if parent_id not in parents:
            _add(errors, "parent", "Unknown category.")
        elif category_id is not None:
            # Walk up from the new parent; meeting this category means the change would close a loop.
            ancestor: int | None = parent_id
            seen: set[int] = set()
            while ancestor is not None and ancestor not in seen:
                if ancestor == category_id:
                    _add(errors, "parent", "A category cannot be placed under itself or one of its sub-categories.")
                    break
                seen.add(ancestor)
                ancestor = parents.get(ancestor)
    return errors, cleaned


def _category_slug_conflicts(category: Category, *, slug_given: bool) -> Callable[[], Errors]:
    def check() -> Errors:
        if slug_given and Category.objects.filter(slug=category.slug).exclude(pk=category.pk).exists():
            return {"slug": ["This slug is already in use."]}
        return {}

    return check


def category_create(*, category: CategoryInput) -> Category:
    errors, cleaned = category_errors(name=category.name, slug=category.slug, parent_id=category.parent,
                                       category_id=None, description=category.description)
    if errors:
        raise ValidationFailed(errors=errors)
    instance = Category(**cleaned)

    def make_slug() -> str:
        return unique_slug(Category, instance.name, max_length=140, fallback="category")

    instance.slug = category.slug or make_slug()
    _save_guarding_uniques(instance, conflict_errors=_category_slug_conflicts(instance, slug_given=bool(category.slug)),
                           regenerate_slug=None if category.slug else make_slug)
    return instance


def category_update(*, category_id: int, changes: CategoryChanges) -> Category:
    """Partial update: only the fields set on ``changes`` are applied. ``slug=None`` makes a new slug from the name;
    ``parent=None`` moves the category to the top level."""
    instance = Category.objects.filter(pk=category_id).first()
    if instance is None:
        raise NotFound(f"Category {category_id} does not exist.")
    given = changes.model_fields_set
    name = changes.name if "name" in given else instance.name
    slug = changes.slug if "slug" in given else instance.slug
    parent_id = changes.parent if "parent" in given else instance.parent_id
    description = changes.description if "description" in given else instance.description
    errors, cleaned = category_errors(name=name, slug=slug if "slug" in given else None, parent_id=parent_id,
                                       category_id=category_id, description=description)
    if errors:
        raise ValidationFailed(errors=errors)
    for field, value in cleaned.items():
        setattr(instance, field, value)

    def make_slug() -> str:
        return unique_slug(Category, instance.name, max_length=140, fallback="category", exclude_pk=instance.pk)

    slug_generated = "slug" in given and not slug
    instance.slug = make_slug() if slug_generated else slug
    _save_guarding_uniques(
        instance, conflict_errors=_category_slug_conflicts(instance, slug_given="slug" in given and bool(slug)),
        regenerate_slug=make_slug if slug_generated else None,
    )
    return instance


def category_delete(*, category_id: int) -> None:
    """Delete an empty category. A category that still holds products, or has sub-categories, answers Conflict:
    silently re-homing products or children would change the catalog in ways staff did not ask for, so they must
    move or delete them first (the foreign keys are PROTECT, so a racing insert cannot slip through either)."""
    instance = Category.objects.filter(pk=category_id).first()
    if instance is None:
        raise NotFound(f"Category {category_id} does not exist.")
    product_count = Product.objects.filter(category_id=category_id).count()
    if product_count:
        raise Conflict(f"Category {category_id} still has {product_count} product(s) (active or not); "
                       "move or delete them before deleting the category.")
    if Category.objects.filter(parent_id=category_id).exists():
        raise Conflict(f"Category {category_id} still has sub-categories; move or delete them first.")
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, IntegrityError) as error:
        raise Conflict(f"Category {category_id} is in use by products or sub-categories; empty it first.") from error


# --- products -------------------------------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    "sku", "name", "slug", "short_description", "description", "category", "price", "discount_type",
    "discount_value", "discount_starts_at", "discount_ends_at", "image_url", "is_active",
)


def _product_values(product: Product) -> dict[str, Any]:
    values = {field: getattr(product, field) for field in PRODUCT_FIELDS if field != "category"}
    values["category"] = product.category_id
    return values


def clean_product(values: dict[str, Any], *, product_id: int | None, check_unique: bool = True,
                   known_categories: set[int] | None = None) -> tuple[Errors, dict[str, Any]]:
    """Validate a whole product (create, replace, or the merge of a partial update) and return model field values.
    ``slug`` is returned as given; None or "" means "make it from the name"."""
    errors: Errors = {}
    sku = _required_text(errors, "sku", values.get("sku"), 64)
    cleaned: dict[str, Any] = {
        "sku": sku,
        "name": _required_text(errors, "name", values.get("name"), 200),
        "short_description": _optional_text(errors, "short_description", values.get("short_description"), 300),
        "description": _optional_text(errors, "description", values.get("description"), None),
        "price": _money(errors, "price", values.get("price")),
        "discount_starts_at": _aware(values.get("discount_starts_at")),
        "discount_ends_at": _aware(values.get("discount_ends_at")),
        "image_url": _optional_text(errors, "image_url", values.get("image_url"), 500),
    }
    if check_unique and "sku" not in errors and Product.objects.filter(sku=sku).exclude(pk=product_id).exists():
        _add(errors, "sku", "A product with this SKU already exists.")

    slug = values.get("slug")
    cleaned["slug"] = slug
    if slug:
        if check_unique:
            _slug_errors(errors, slug, model=Product, max_length=255, exclude_pk=product_id)
        elif len(slug) > 255 or not _SLUG_RE.match(slug):
            _add(errors, "slug", "Enter a valid slug of at most 255 letters, numbers, underscores or hyphens.")

    category_id = values.get("category")
    cleaned["category_id"] = category_id
    if category_id is not None:
        exists = (category_id in known_categories if known_categories is not None
                  else Category.objects.filter(pk=category_id).exists())
        if not exists:
            _add(errors, "category", "Unknown category.")

    is_active = values.get("is_active")
    if is_active is None:
        _add(errors, "is_active", "This field may not be null.")
    cleaned["is_active"] = bool(is_active)

    discount_type = values.get("discount_type")
    if discount_type not in DiscountType.values:
        _add(errors, "discount_type", f"Must be one of: {', '.join(DiscountType.values)}.")
    cleaned["discount_type"] = discount_type
    if discount_type == DiscountType.NONE:
        cleaned["discount_value"] = Decimal("0.00")
    else:
        cleaned["discount_value"] = _money(errors, "discount_value", values.get("discount_value"))
        if discount_type == DiscountType.PERCENT and cleaned["discount_value"] > HUNDRED:
            _add(errors, "discount_value", "A percent discount must be between 0 and 100.")

    starts, ends = cleaned["discount_starts_at"], cleaned["discount_ends_at"]
    if starts is not None and ends is not None and starts >= ends:
        _add(errors, "discount_ends_at", "The discount must end after it starts.")

    if cleaned["image_url"]:
        try:
            _url_validator(cleaned["image_url"])
        except DjangoValidationError:
            _add(errors, "image_url", "Enter a valid URL.")
    return errors, cleaned


def _product_conflicts(product: Product, *, slug_given: bool) -> Callable[[], Errors]:
    def check() -> Errors:
        errors: Errors = {}
        if Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
            _add(errors, "sku", "A product with this SKU already exists.")
        if slug_given and Product.objects.filter(slug=product.slug).exclude(pk=product.pk).exists():
            _add(errors, "slug", "This slug is already in use.")
        return errors

    return check


def _product_slug_maker(product: Product) -> Callable[[], str]:
    def make() -> str:
        return unique_slug(Product, product.name, max_length=255, fallback="product", exclude_pk=product.pk)

    return make


def _save_product(product: Product, *, slug: str | None) -> Product:
    make_slug = _product_slug_maker(product)
    product.slug = slug or make_slug()
    _save_guarding_uniques(product, conflict_errors=_product_conflicts(product, slug_given=bool(slug)),
                           regenerate_slug=None if slug else make_slug)
    return product


def product_create(*, product: ProductInput) -> Product:
    errors, cleaned = clean_product(product.model_dump(exclude={"stock"}), product_id=None)
    if product.stock > MAX_STOCK:
        _add(errors, "stock", f"Ensure this value is less than or equal to {MAX_STOCK}.")
    if errors:
        raise ValidationFailed(errors=errors)
    slug = cleaned.pop("slug")
    instance = Product(**cleaned, stock_on_hand=product.stock)
    return _save_product(instance, slug=slug)


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
    values = _product_values(instance)
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
            _add(item_errors, "stock", f"Ensure this value is less than or equal to {MAX_STOCK}.")
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
        return True


# --- stock ----------------------------------------------------------------------------------------------------------

def _record_low_stock(products: Iterable[Product], available_before: dict[int, int]) -> None:
    threshold = settings.ECOMMERCE_LOW_STOCK_THRESHOLD
    for product in products:
        before = available_before.get(product.pk)
        if before is not None and before > threshold >= product.stock_available:
            record_event("stock.low", {
                "product_id": product.pk, "sku": product.sku, "available": product.stock_available,
                "threshold": threshold,
            })


def product_stock_adjust(*, product_id: int, delta: int) -> Product:
    """Receive (delta > 0) or write off (delta < 0) stock on hand, atomically; on hand can never drop below what
    open orders have reserved."""
    if delta == 0:
        raise ValidationFailed(errors={"delta": ["Must not be zero."]})
    if abs(delta) > MAX_STOCK:
        raise ValidationFailed(errors={"delta": [f"Must be between -{MAX_STOCK} and {MAX_STOCK}."]})
    guard = Q(stock_on_hand__gte=F("stock_reserved") - delta) if delta < 0 else Q(stock_on_hand__lte=MAX_STOCK - delta)
    with transaction.atomic():
        updated = Product.objects.filter(guard, pk=product_id).update(
            stock_on_hand=F("stock_on_hand") + delta, updated_at=timezone.now()
        )
        product = Product.objects.filter(pk=product_id).first()
        if product is None:
            raise NotFound(f"Product {product_id} does not exist.")
        if not updated:
            if delta > 0:
                raise ValidationFailed(errors={"delta": [f"Stock on hand may not exceed {MAX_STOCK}."]})
            raise InsufficientStock(
                f"Cannot write off {-delta}: {product.stock_on_hand} on hand of which {product.stock_reserved} "
                f"reserved by open orders, so at most {product.stock_available} can be written off.",
                lines=[{"product_id": product.pk, "requested": -delta, "available": product.stock_available}],
            )
        _record_low_stock([product], {product.pk: product.stock_available - delta})
    return product


def stock_reserve(*, order_id: UUID, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve every (product_id, quantity) line for the order, or nothing. Repeating the call for an order that
    already has reservations does nothing. Raises InsufficientStock naming every short line."""
    wanted: dict[int, int] = defaultdict(int)
    for product_id, quantity in lines:
        if quantity < 1:
            raise ValidationFailed(errors={"lines": ["Every quantity must be at least 1."]})
        wanted[product_id] += quantity
    if not wanted:
        raise ValidationFailed(errors={"lines": ["At least one line is required."]})
    try:
        with transaction.atomic():
            if StockReservation.objects.filter(order_id=order_id).exists():
                return
            now = timezone.now()
            short: list[tuple[int, int]] = []
            for product_id, quantity in sorted(wanted.items()):  # ascending ids: a fixed lock order
                updated = Product.objects.filter(
                    pk=product_id, is_active=True, stock_on_hand__gte=F("stock_reserved") + quantity
                ).update(stock_reserved=F("stock_reserved") + quantity, updated_at=now)
                if not updated:
                    short.append((product_id, quantity))
            products = {p.pk: p for p in Product.objects.filter(pk__in=list(wanted))}
            if short:
                raise InsufficientStock(
                    f"Not enough stock for {len(short)} line(s); nothing was reserved.",
                    lines=[
                        {
                            "product_id": product_id,
                            "requested": quantity,
                            "available": max(products[product_id].stock_available, 0)
                            if product_id in products and products[product_id].is_active else 0,
                        }
                        for product_id, quantity in short
                    ],
                )
            StockReservation.objects.bulk_create([
                StockReservation(order_id=order_id, product_id=product_id, quantity=quantity)
                for product_id, quantity in sorted(wanted.items())
            ])
            _record_low_stock(products.values(), {
                product_id: products[product_id].stock_available + quantity for product_id, quantity in wanted.items()
            })
    except IntegrityError:
        # A concurrent call for the same order won the unique (order, product) race: that call did the work.
        if StockReservation.objects.filter(order_id=order_id).exists():
            return
        raise


def stock_reservation_confirm(*, order_id: UUID) -> None:
    """The order holding the reservation was written; the stale-reservation sweep leaves it alone from now on."""
    StockReservation.objects.filter(order_id=order_id, confirmed=False).update(
        confirmed=True, updated_at=timezone.now()
    )


def _settle(order_id: UUID, *, to_status: str, consume_on_hand: bool, only: Q | None = None) -> int:
    """Move the order's still-reserved rows to ``to_status`` and take their quantity off ``stock_reserved`` (and
    off ``stock_on_hand`` when the goods left). Rows already settled are skipped, which makes it idempotent."""
    with transaction.atomic():
        rows = list(
            StockReservation.objects.select_for_update()
            .filter(only or Q(), order_id=order_id, status=ReservationStatus.RESERVED)
            .order_by("product_id")
        )
        if not rows:
            return 0
        now = timezone.now()
        for row in rows:
            changes: dict[str, Any] = {"stock_reserved": F("stock_reserved") - row.quantity, "updated_at": now}
            if consume_on_hand:
                changes["stock_on_hand"] = F("stock_on_hand") - row.quantity
            Product.objects.filter(pk=row.product_id).update(**changes)
        StockReservation.objects.filter(pk__in=[row.pk for row in rows]).update(status=to_status, updated_at=now)
        return len(rows)


def stock_release(*, order_id: UUID) -> int:
    return _settle(order_id, to_status=ReservationStatus.RELEASED, consume_on_hand=False)


def stock_commit(*, order_id: UUID) -> int:
    return _settle(order_id, to_status=ReservationStatus.COMMITTED, consume_on_hand=True)


def stock_release_stale(*, older_than: timedelta = STALE_RESERVATION_AGE) -> int:
    """Release reservations of checkouts that died before writing their order: still reserved, never confirmed,
    older than ``older_than``. Returns how many orders' reservations were released."""
    cutoff = timezone.now() - older_than
    stale = Q(confirmed=False, created_at__lt=cutoff)
    order_ids = list(
        StockReservation.objects.filter(stale, status=ReservationStatus.RESERVED)
        .order_by("order_id").values_list("order_id", flat=True).distinct()
    )
    # Re-checked under lock per order, so one confirmed meanwhile is left alone.
    return sum(1 for order_id in order_ids
               if _settle(order_id, to_status=ReservationStatus.RELEASED, consume_on_hand=False, only=stale))
