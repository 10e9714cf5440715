"""Django admin for catalog staff (granted to the "catalog_staff" group by a data migration). Stock quantities are
read-only here: stock moves only through the stock service (receive/write-off, reservations), whose conditional
updates keep on hand >= reserved; a plain form save could overwrite a concurrent checkout's reservation."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils import timezone

from apps.products.invalidation import catalog_changed
from apps.products.models import Category, Product, StockReservation
from apps.products.pricing import effective_price
from apps.products.services.categories import category_errors
from apps.products.services.products import PRODUCT_FIELDS, clean_product


class CategoryAdminForm(forms.ModelForm):
    """Applies the API's category rules, notably that the tree never gets a cycle."""

    class Meta:
        model = Category
        fields = ("name", "slug", "description", "parent")

    def clean(self) -> dict:
        cleaned = super().clean()
        parent = cleaned.get("parent")
        errors, _ = category_errors(
            name=cleaned.get("name", self.instance.name), slug=None, parent_id=parent.pk if parent else None,
            category_id=self.instance.pk, description=cleaned.get("description", ""),
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("name", "slug", "parent")
    search_fields = ("name", "slug")
    list_filter = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("parent",)
    ordering = ("name", "id")


class ProductAdminForm(forms.ModelForm):
    """Applies the same product rules as the API (discount range and window, unique sku and slug)."""

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
                self.add_error(target, message)
        if cleaned.get("discount_type") == "none":
            cleaned["discount_value"] = Decimal("0.00")
        return cleaned


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "category", "price", "current_price", "available_stock", "is_active")
    list_display_links = ("sku", "name")
    search_fields = ("sku", "name")
    list_filter = ("is_active", "category", "discount_type")
    list_select_related = ("category",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("stock_on_hand", "stock_reserved", "available_stock", "created_at", "updated_at")
    actions = ("deactivate",)

    @admin.display(description="Effective price")
    def current_price(self, product: Product) -> Decimal:
        return effective_price(
            price=product.price, discount_type=product.discount_type, discount_value=product.discount_value,
            starts_at=product.discount_starts_at, ends_at=product.discount_ends_at, now=timezone.now(),
        )

    @admin.display(description="Available")
    def available_stock(self, product: Product) -> int:
        return product.stock_available

    @admin.action(description="Deactivate selected products (hide them from the shop)")
    def deactivate(self, request, queryset) -> None:
        updated = queryset.update(is_active=False, updated_at=timezone.now())
        catalog_changed()
        self.message_user(request, f"{updated} product(s) deactivated.")


@admin.register(StockReservation)
class StockReservationAdmin(admin.ModelAdmin):
    """Read-only: reservations belong to the orders saga."""

    list_display = ("order_id", "product", "quantity", "status", "confirmed", "created_at")
    list_filter = ("status", "confirmed")
    search_fields = ("order_id", "product__sku")
    list_select_related = ("product",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
