"""Vouchers in the admin, for catalog staff (a voucher is a price rule, like a product's discount). A voucher is
checked by the same rules as through the API (``services.vouchers.voucher_values_clean``); its count of uses is the
checkouts' alone, and a voucher orders have used cannot be deleted (end its window instead). Redemptions are shown
read-only: they change only with their order."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.orders.models import Voucher, VoucherRedemption
from apps.orders.services.vouchers import voucher_values_clean
from ecommerce.contracts.orders import VoucherInput
from ecommerce.errors import ValidationFailed


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = ["code", "kind", "value", "min_subtotal", "starts_at", "ends_at", "max_uses",
                  "max_uses_per_customer"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            values = voucher_values_clean({field: cleaned.get(field) for field in VoucherInput.model_fields})
        except ValidationFailed as invalid:
            for field, messages in invalid.errors.items():
                self.add_error(field if field in self.fields else None, messages)
            return cleaned
        if self.instance.pk and values["max_uses"] is not None and values["max_uses"] < self.instance.uses:
            self.add_error("max_uses", f"It has already been used {self.instance.uses} times.")
        cleaned.update(values)
        self.instance.code = values["code"]
        return cleaned


class VoucherRedemptionInline(admin.TabularInline):
    model = VoucherRedemption
    fields = ["created_at", "order", "user_id", "discount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherForm
    list_display = ["code", "kind", "value", "min_subtotal", "starts_at", "ends_at", "uses", "max_uses"]
    list_filter = ["kind"]
    search_fields = ["code"]
    readonly_fields = ["uses", "created_at", "updated_at"]
    inlines = [VoucherRedemptionInline]

    def has_delete_permission(self, request: HttpRequest, obj: Voucher | None = None) -> bool:
        if obj is not None and obj.redemptions.exists():
            return False
        return super().has_delete_permission(request, obj)
