"""Carts and their checkout claims in the admin are for looking only: a cart belongs to its shopper, and a claim to
the checkout that made it; staff must not change either behind their back."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.carts.models import Cart, CartClaim, CartClaimLine, CartItem


class _ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CartItemInline(_ReadOnlyAdminMixin, admin.TabularInline):
    model = CartItem
    fields = ("product_id", "quantity", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Cart)
class CartAdmin(_ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user_id", "created_at", "updated_at")
    search_fields = ("=user_id",)
    readonly_fields = ("user_id", "created_at", "updated_at")
    inlines = (CartItemInline,)
    date_hierarchy = "updated_at"


class CartClaimLineInline(_ReadOnlyAdminMixin, admin.TabularInline):
    model = CartClaimLine
    fields = ("product_id", "quantity", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(CartClaim)
class CartClaimAdmin(_ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order_id", "cart", "status", "created_at", "settled_at")
    list_filter = ("status",)
    search_fields = ("=order_id", "=cart__user_id")
    readonly_fields = ("order_id", "cart", "status", "created_at", "settled_at")
    list_select_related = ("cart",)
    inlines = (CartClaimLineInline,)
    date_hierarchy = "created_at"
