"""List filters of the product list: stock level bands, a discount live right now, a category with its
sub-categories. The bands and the live-discount window are the ones the shop applies elsewhere (the low-stock
threshold of ``stock.low`` events, the effective price's discount window)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.products import selectors
from apps.products.admin.categories import TREE_INDENT
from apps.products.models import Category, DiscountType, Product

OUT, LOW, IN_STOCK = "out", "low", "in"


def stock_band(band: str) -> Q:
    """The products of a stock band, by what is available (on hand less reserved)."""
    threshold = settings.ECOMMERCE_LOW_STOCK_THRESHOLD
    if band == OUT:
        return Q(stock_on_hand__lte=F("stock_reserved"))
    if band == LOW:
        return Q(stock_on_hand__gt=F("stock_reserved")) & Q(stock_on_hand__lte=F("stock_reserved") + threshold)
    return Q(stock_on_hand__gt=F("stock_reserved") + threshold)


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        threshold = settings.ECOMMERCE_LOW_STOCK_THRESHOLD
        return [(OUT, "Out of stock"), (LOW, f"Low (1 to {threshold} available)"),
                (IN_STOCK, f"In stock (more than {threshold})")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() in {OUT, LOW, IN_STOCK}:
            return queryset.filter(stock_band(self.value()))
        return queryset


def discount_live_now() -> Q:
    """Products whose discount applies at this instant (the window of ``apps.products.pricing``)."""
    now = timezone.now()
    return (~Q(discount_type=DiscountType.NONE) & Q(discount_value__gt=0)
            & (Q(discount_starts_at__isnull=True) | Q(discount_starts_at__lte=now))
            & (Q(discount_ends_at__isnull=True) | Q(discount_ends_at__gt=now)))


class DiscountLiveFilter(admin.SimpleListFilter):
    title = "discount"
    parameter_name = "discount"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("live", "Live now"), ("not_live", "None live now")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "live":
            return queryset.filter(discount_live_now())
        if self.value() == "not_live":
            return queryset.exclude(discount_live_now())
        return queryset


class CategoryTreeFilter(admin.SimpleListFilter):
    """A category and everything under it, as the API's ``?category=`` filter; offered as an indented tree."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        names = dict(Category.objects.values_list("id", "name"))
        return [(str(category_id), f"{TREE_INDENT * 2 * depth}{names[category_id]}")
                for category_id, depth in selectors.category_tree()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(category_id__in=selectors.category_subtree_ids(category_id=int(value)))
        return queryset
