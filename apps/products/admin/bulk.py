"""Bulk actions of the product list. Each first shows a confirmation page naming the products (and, for a price
change, each new price); only the confirmation's POST changes anything, through the products services, so the
rules, the cache invalidation and the events of a single change apply. Offered only to those who may change
products."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.products import services as product_services
from apps.products.models import Product
from apps.products.services.bulk import MAX_PERCENT, MIN_PERCENT, repriced
from ecommerce.errors import ValidationFailed

CONFIRMED = "confirmed"


class RepriceForm(forms.Form):
    percent = forms.DecimalField(
        label="Change prices by (%)", min_value=MIN_PERCENT, max_value=MAX_PERCENT, max_digits=6, decimal_places=2,
        help_text="Negative lowers prices (-10 takes a tenth off), positive raises them. Rounded to cents.")

    def clean_percent(self) -> Decimal:
        percent = self.cleaned_data["percent"]
        if percent == 0:
            raise forms.ValidationError("Must not be zero.")
        return percent


def _confirmation(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Product], *,
                  action: str, title: str, question: str, form: forms.Form | None = None,
                  rows: list[tuple[Product, str]] | None = None) -> TemplateResponse:
    """The page before a bulk change: without ``rows`` it asks for the form's input (or, without a form, confirms
    the products as they are); with ``rows`` it shows what will change for each product."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "question": question,
        "action": action,
        "asking": form is not None and rows is None,
        "rows": rows if rows is not None else [(product, "") for product in queryset.order_by("sku")],
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirmed": CONFIRMED,
    }
    return TemplateResponse(request, "admin/products/product/bulk_confirm.html", context)


def _set_active(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Product], *,
                is_active: bool) -> TemplateResponse | None:
    verb = "activate" if is_active else "deactivate"
    if request.POST.get(CONFIRMED) != "yes":
        return _confirmation(
            model_admin, request, queryset, action=f"{verb}_selected", title=f"Confirm: {verb} products",
            question=(f"Put these {queryset.count()} product(s) on sale?" if is_active else
                      f"Withdraw these {queryset.count()} product(s) from the shop? Customers will no longer "
                      "see or buy them; open orders are not affected."))
    changed = product_services.product_bulk_set_active(product_ids=queryset.values_list("pk", flat=True),
                                                       is_active=is_active)
    model_admin.message_user(request, f"{changed} product(s) {verb}d.", messages.SUCCESS)
    return None


@admin.action(description="Activate selected products (put them on sale)", permissions=["change"])
def activate_selected(model_admin: admin.ModelAdmin, request: HttpRequest,
                      queryset: QuerySet[Product]) -> TemplateResponse | None:
    return _set_active(model_admin, request, queryset, is_active=True)


@admin.action(description="Deactivate selected products (hide them from the shop)", permissions=["change"])
def deactivate_selected(model_admin: admin.ModelAdmin, request: HttpRequest,
                        queryset: QuerySet[Product]) -> TemplateResponse | None:
    return _set_active(model_admin, request, queryset, is_active=False)


@admin.action(description="Change prices of selected products by a percent", permissions=["change"])
def reprice_selected(model_admin: admin.ModelAdmin, request: HttpRequest,
                     queryset: QuerySet[Product]) -> TemplateResponse | None:
    # The percent is asked for on the first page; the second shows every new price before anything changes.
    form = RepriceForm(request.POST if "percent" in request.POST else None)
    if not form.is_valid():
        return _confirmation(model_admin, request, queryset, action="reprice_selected",
                             title="Change prices by a percent", question="By how much?", form=form)
    percent = form.cleaned_data["percent"]
    if request.POST.get(CONFIRMED) != "yes":
        rows = [(product, f"{product.price} → {repriced(product.price, percent)}")
                for product in queryset.order_by("sku")]
        return _confirmation(model_admin, request, queryset, action="reprice_selected",
                             title=f"Confirm: change prices by {percent:+}%",
                             question=f"Change the price of these {len(rows)} product(s) as shown?", form=form,
                             rows=rows)
    try:
        changed = product_services.product_bulk_reprice(product_ids=queryset.values_list("pk", flat=True),
                                                        percent=percent)
    except ValidationFailed as error:
        problems = "; ".join(f"{sku}: {' '.join(texts)}" for sku, texts in error.errors.items())
        model_admin.message_user(request, f"{error.detail} {problems}", messages.ERROR)
        return None
    model_admin.message_user(request, f"{changed} price(s) changed by {percent:+}%.", messages.SUCCESS)
    return None
