"""Catalog tables: categories, products with their price, discount and stock, and the stock reservations that
orders hold. The database guards the stock invariant itself (0 <= reserved <= on hand), so no code path, admin form
or concurrent writer can sell what is not there."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.db import models

from ecommerce.money import MONEY_FIELD

# The search document is stored, not computed per query: on PostgreSQL the products table has a generated tsvector
# column with a GIN index (migration 0003, see apps.products.db), so a search reads the index and the stored
# vectors instead of parsing every row's text twice. Names and skus weigh more than descriptions.
SEARCH_CONFIG = "english"
SEARCH_DOCUMENT_COLUMN = "search_document"
SEARCH_DOCUMENT_SQL = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(name, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(sku, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(description, '')), 'B')"
)
SEARCH_DOCUMENT_INDEX = "products_search_document_gin"

# Indexes that exist on PostgreSQL only (see apps.products.db), not declared in Meta.indexes: the trigram index on
# names (the typo fallback of search) from migration 0001, the search document's GIN index, and the index on the
# sale price of discounted products on sale (migration 0007; its expression is pricing.sale_price_expression, which
# this module cannot import), which a price range reads (see pricing.effective_price_candidates).
POSTGRES_ONLY_INDEXES = [
    GinIndex(fields=["name"], name="products_name_trgm_gin", opclasses=["gin_trgm_ops"]),
]
SALE_PRICE_INDEX = "products_sale_price_idx"
POSTGRES_ONLY_INDEX_NAMES = frozenset({SEARCH_DOCUMENT_INDEX, SALE_PRICE_INDEX,
                                       *(index.name for index in POSTGRES_ONLY_INDEXES)})

# Written only by the stock services' conditional UPDATEs (and once, on insert, as a new product's initial stock).
STOCK_COLUMNS = frozenset({"stock_on_hand", "stock_reserved"})


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    # PROTECT: a category with sub-categories cannot vanish and silently orphan or re-home them.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class DiscountType(models.TextChoices):
    NONE = "none", "No discount"
    PERCENT = "percent", "Percent off"
    FIXED = "fixed", "Fixed amount off"


# The kinds of discount that lower a price; a product of any other kind sells at its price.
DISCOUNTING_TYPES = (DiscountType.PERCENT, DiscountType.FIXED)


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=255, unique=True)
    short_description = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(**MONEY_FIELD)
    discount_type = models.CharField(max_length=16, choices=DiscountType.choices, default=DiscountType.NONE)
    discount_value = models.DecimalField(**MONEY_FIELD, default=0)
    discount_starts_at = models.DateTimeField(null=True, blank=True)
    discount_ends_at = models.DateTimeField(null=True, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    stock_on_hand = models.PositiveIntegerField(default=0)
    stock_reserved = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock_reserved__gte=0), name="products_reserved_not_negative"),
            models.CheckConstraint(
                condition=models.Q(stock_reserved__lte=models.F("stock_on_hand")),
                name="products_reserved_within_on_hand",
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="products_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(discount_value__gte=0), name="products_discount_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(discount_type=DiscountType.PERCENT) | models.Q(discount_value__lte=100),
                name="products_percent_discount_at_most_100",
            ),
        ]
        indexes = [
            # The default order (newest first, id breaking ties), so a page, deep ones too, is read off the index.
            models.Index(fields=["is_active", "-created_at", "id"], name="products_active_newest_idx"),
            # Counting the products on sale, which a list does after every catalog change, from the smallest index
            # that holds them (a third faster than the wider one above at 100 000 products).
            models.Index(fields=["is_active"], condition=models.Q(is_active=True), name="products_on_sale_idx"),
            # Counting a price range after a catalog change reads only the candidates (see
            # pricing.effective_price_candidates): products by price range, discounted ones also by sale price
            # (SALE_PRICE_INDEX).
            models.Index(fields=["price"], condition=models.Q(is_active=True)
                         & ~models.Q(discount_type__in=DISCOUNTING_TYPES), name="products_full_price_idx"),
            models.Index(fields=["price"], condition=models.Q(is_active=True, discount_type__in=DISCOUNTING_TYPES),
                         name="products_discounted_idx"),
            # The next discount boundary of the whole catalog bounds how long a price-filtered answer may be cached.
            models.Index(fields=["discount_starts_at"], name="products_discount_starts_idx"),
            models.Index(fields=["discount_ends_at"], name="products_discount_ends_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An update writes every column but stock. The instance may have been read before a checkout reserved or a
        write-off took units (an admin form, a PUT); writing its quantities back would undo that change."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and STOCK_COLUMNS & set(update_fields):
            raise ValueError("Stock columns change only through the stock services.")
        if update_fields is None and not self._state.adding and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [field.name for field in self._meta.concrete_fields
                                       if not field.primary_key and field.name not in STOCK_COLUMNS]
        super().save(*args, **kwargs)

    @property
    def stock_available(self) -> int:
        return self.stock_on_hand - self.stock_reserved


class ReservationStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    RELEASED = "released", "Released"
    COMMITTED = "committed", "Committed"


class StockReservation(models.Model):
    """Stock held for one order line. ``order_id`` belongs to the orders context: a plain UUID, no foreign key.
    Its existence also marks the product as ordered, which is why a product is never deleted while one exists."""

    order_id = models.UUIDField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.RESERVED)
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "product"], name="products_reservation_once_per_order"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="products_reservation_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "confirmed", "created_at"], name="products_reservation_stale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.product_id} x{self.quantity} ({self.status})"


class StockAdjustmentSource(models.TextChoices):
    INITIAL = "initial", "Initial stock"
    ADMIN = "admin", "Admin"
    API = "api", "API"
    IMPORT = "import", "CSV import"


class StockAdjustment(models.Model):
    """The audit trail of stock received and written off: who, when, the quantities before and after, and why.
    Written in the transaction of the change itself, so a row exists exactly when the stock moved. The person is
    the users context's id (no foreign key) with the e-mail copied, so the row reads the same in every deployment.
    Sales and cancellations are not here: the reservations and the orders' history record those."""

    # SET_NULL: a product that was never ordered may be deleted; its trail stays, named by the copied sku.
    product = models.ForeignKey(Product, null=True, on_delete=models.SET_NULL, related_name="stock_adjustments")
    sku = models.CharField(max_length=64)
    delta = models.IntegerField()
    on_hand_before = models.PositiveIntegerField()
    on_hand_after = models.PositiveIntegerField()
    reserved = models.PositiveIntegerField(help_text="Reserved by open orders at the time of the change.")
    reason = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=StockAdjustmentSource.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="products_stock_adjust_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(on_hand_after=models.F("on_hand_before") + models.F("delta")),
                                   name="products_stock_adjustment_adds_up"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.delta:+d} ({self.reason})"

    @property
    def available_before(self) -> int:
        return self.on_hand_before - self.reserved

    @property
    def available_after(self) -> int:
        return self.on_hand_after - self.reserved
