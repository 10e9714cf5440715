"""The product list and product pages of the admin.

The list searches sku and name and, when nothing matches, falls back to the catalog search's typo tolerance; it
filters by stock band, live discount, activity and category (with sub-categories); it sorts by price, effective price
and available stock, all computed by the database. A product's page applies the API's product rules; a new product
may be given its initial stock, which is received through the stock service like any later delivery.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import F, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from apps.products import selectors
from apps.products import services as product_services
from apps.products.admin import bulk, stock
from apps.products.admin.filters import CategoryTreeFilter, DiscountLiveFilter, StockLevelFilter
from apps.products.admin.imports import ProductResource
from apps.products.models import Product, StockAdjustmentSource, StockReservation
from apps.products.pricing import effective_price_expression
from apps.products.services.products import INITIAL_STOCK_REASON, PRODUCT_FIELDS, clean_product
from apps.products.services.validation import MAX_STOCK
from ecommerce.contracts.products import StockActor

THUMBNAIL_PIXELS = 48


class ProductAdminForm(forms.ModelForm):
    """Applies the same product rules as the API (discount range and window, a fixed discount within the price,
    unique sku and slug)."""

    image_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Product
        fields = (*PRODUCT_FIELDS,)  # stock fields left out: they move only through the stock service

    def clean(self) -> dict:
        cleaned = super().clean()
        values = {field: cleaned.get(field, getattr(self.instance, field, None)) for field in PRODUCT_FIELDS}
        category = cleaned.get("category")
        values["category"] = category.pk if category else None
        errors, _ = clean_product(values, product_id=self.instance.pk)
        for field, messages in errors.items():
            target = field if field in self.fields else None
            for message in messages:
                if target is None or target not in self.errors:
                    self.add_error(target, message)
        if cleaned.get("discount_type") == "none":
            cleaned["discount_value"] = Decimal("0.00")
        return cleaned


class ProductAddForm(ProductAdminForm):
    initial_stock = forms.IntegerField(min_value=0, max_value=MAX_STOCK, initial=0, required=False,
                                       help_text="Units on hand now; later deliveries and write-offs go through "
                                                 "“Adjust stock”.")


def actor_of(request: HttpRequest) -> StockActor:
    return StockActor(id=request.user.pk, email=getattr(request.user, "email", "") or "")


@admin.register(Product)
class ProductAdmin(ImportExportModelAdmin):
    form = ProductAdminForm
    add_form = ProductAddForm
    resource_classes = [ProductResource]
    formats = [CSV]
    change_list_template = "admin/products/product/change_list.html"
    change_form_template = "admin/products/product/change_form.html"
    import_template_name = "admin/products/product/import.html"
    list_display = ("thumbnail", "sku", "name", "category", "price", "current_price", "available_stock",
                    "is_active")
    list_display_links = ("sku", "name")
    search_fields = ("sku", "name")
    list_filter = (StockLevelFilter, DiscountLiveFilter, "is_active", CategoryTreeFilter)
    list_select_related = ("category",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("stock_on_hand", "stock_reserved", "available_stock", "stock_history", "created_at",
                       "updated_at")
    actions = (bulk.activate_selected, bulk.deactivate_selected, bulk.reprice_selected)

    # --- the list ---------------------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).annotate(
            effective_price_sql=effective_price_expression(timezone.now()),
            available_sql=F("stock_on_hand") - F("stock_reserved"),
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Product],
                           search_term: str) -> tuple[QuerySet[Product], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip() and not found.exists():
            # Nothing contains the words: perhaps a typo, as the shop's own search assumes.
            return selectors.products_similar_to(queryset, search_term), False
        return found, may_have_duplicates

    @admin.display(description="")
    def thumbnail(self, product: Product) -> str:
        if not product.image_url:
            return ""
        return format_html('<img src="{}" alt="" width="{}" height="{}" loading="lazy" '
                           'referrerpolicy="no-referrer" style="object-fit: cover; border-radius: 4px">',
                           product.image_url, THUMBNAIL_PIXELS, THUMBNAIL_PIXELS)

    @admin.display(description="Effective price", ordering="effective_price_sql")
    def current_price(self, product: Product) -> Decimal:
        return product.effective_price_sql

    @admin.display(description="Available", ordering="available_sql")
    def available_stock(self, product: Product) -> int:
        return product.stock_available

    # --- one product ------------------------------------------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: Product | None = None, change: bool = False,
                 **kwargs: Any) -> type[ModelForm]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None) -> list:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # Stock figures and history after the product's own fields, then the timestamps.
        stock_fields = ("stock_on_hand", "stock_reserved", "available_stock", "stock_history")
        own = [field for field in fieldsets[0][1]["fields"] if field not in {*stock_fields, "created_at",
                                                                            "updated_at"}]
        return [(None, {"fields": own}), ("Stock", {"fields": stock_fields}),
                ("Record", {"fields": ("created_at", "updated_at")})]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="Recent stock changes")
    def stock_history(self, product: Product) -> str:
        return stock.history_table(product)

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        initial_stock = form.cleaned_data.get("initial_stock") if not change else None
        if initial_stock:
            # Inside the admin's transaction: the product and its received stock are written together.
            product_services.product_stock_adjust(product_id=obj.pk, delta=initial_stock,
                                                  reason=INITIAL_STOCK_REASON, actor=actor_of(request),
                                                  source=StockAdjustmentSource.INITIAL)
            obj.refresh_from_db(fields=["stock_on_hand", "stock_reserved"])

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list[str], dict[str, int], set, list]:
        """What the delete confirmation lists. Reservations never block it (nor, for want of a permission nobody
        has, does anything else): a product that was ever ordered is withdrawn from the shop instead."""
        products = list(objs)
        ordered = set(StockReservation.objects.filter(product__in=products).values_list("product_id", flat=True))
        described = [f"{product}: ordered before, so it will be withdrawn from the shop instead"
                     if product.pk in ordered else str(product) for product in products]
        return described, {str(self.opts.verbose_name_plural): len(products)}, set(), []

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        # Through the service: a product that was ever ordered is withdrawn instead, as over the API.
        product_services.product_delete(product_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product_id in queryset.values_list("pk", flat=True):
            product_services.product_delete(product_id=product_id)

    # --- pages of their own -----------------------------------------------------------------------------------------

    def get_urls(self) -> list:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("low-stock/", self.admin_site.admin_view(self.low_stock_view), name=f"{prefix}_low_stock"),
            path("<int:product_id>/stock/", self.admin_site.admin_view(self.stock_adjust_view),
                 name=f"{prefix}_stock"),
            *super().get_urls(),
        ]

    def low_stock_view(self, request: HttpRequest):
        return stock.low_stock_view(self, request)

    def stock_adjust_view(self, request: HttpRequest, product_id: int):
        return stock.stock_adjust_view(self, request, product_id, actor=actor_of(request))

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None):
        extra_context = dict(extra_context or {})
        if object_id and object_id.isdigit() and self.has_change_permission(request):
            extra_context["stock_adjust_url"] = reverse(f"{self.admin_site.name}:products_product_stock",
                                                        args=[int(object_id)])
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}),
                         "low_stock_url": reverse(f"{self.admin_site.name}:products_product_low_stock")}
        return super().changelist_view(request, extra_context)

    # --- who may do what --------------------------------------------------------------------------------------------

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)
