"""Stock in the admin: the "Adjust stock" page (a delta and a reason, through the stock service, so on hand never
drops below what open orders reserved and every change is audited), the audit trail, the low-stock view and the
stock reservations, which belong to the orders saga and are only shown.

Nothing here writes a stock column or an audit row itself.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.products import services as product_services
from apps.products.admin.filters import LOW, OUT, stock_band
from apps.products.models import Product, StockAdjustment, StockAdjustmentSource, StockReservation
from apps.products.services.validation import MAX_STOCK
from ecommerce.contracts.products import STOCK_REASON_MAX_LENGTH, StockActor
from ecommerce.errors import InsufficientStock, ValidationFailed

HISTORY_ROWS = 10
LOW_STOCK_PAGE_SIZE = 100


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(label="Change", min_value=-MAX_STOCK, max_value=MAX_STOCK,
                               help_text="Positive receives units (a delivery), negative writes them off.")
    reason = forms.CharField(max_length=STOCK_REASON_MAX_LENGTH,
                             help_text="Why, for the audit trail: a delivery note, damage, a stock count...")

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Must not be zero.")
        return delta


def stock_adjust_view(model_admin: admin.ModelAdmin, request: HttpRequest, product_id: int, *,
                      actor: StockActor) -> HttpResponse:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise Http404(f"Product {product_id} does not exist.")
    if not model_admin.has_change_permission(request, product):
        raise PermissionDenied
    form = StockAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product_services.product_stock_adjust(
                product_id=product.pk, delta=form.cleaned_data["delta"], reason=form.cleaned_data["reason"],
                actor=actor, source=StockAdjustmentSource.ADMIN)
        except InsufficientStock as error:
            form.add_error("delta", str(error))
        except ValidationFailed as error:
            for field, field_errors in error.errors.items():
                for message in field_errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            product.refresh_from_db()
            model_admin.message_user(
                request, f"Stock of {product.sku} changed by {form.cleaned_data['delta']:+d}: "
                         f"{product.stock_available} available now.", messages.SUCCESS)
            return HttpResponseRedirect(reverse(f"{model_admin.admin_site.name}:products_product_change",
                                                args=[product.pk]))
        product.refresh_from_db()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Adjust stock: {product}",
        "product": product,
        "form": form,
        "history": history_table(product),
    }
    return TemplateResponse(request, "admin/products/product/stock_adjust.html", context)


def history_table(product: Product) -> str:
    """The product's latest stock changes, newest first, with a link to all of them."""
    rows = list(product.stock_adjustments.all()[:HISTORY_ROWS])
    if not rows:
        return "No stock changes recorded yet."
    body = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
        ((row.created_at.strftime("%Y-%m-%d %H:%M"), actor_label(row), f"{row.delta:+d}", row.on_hand_before,
          row.on_hand_after, row.available_before, row.available_after, row.get_source_display(), row.reason)
         for row in rows))
    all_url = reverse("admin:products_stockadjustment_changelist") + f"?product__id__exact={product.pk}"
    return format_html(
        '<table class="stock-history"><thead><tr><th>When</th><th>Who</th><th>Change</th><th>On hand</th>'
        "<th>Available</th><th>Source</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>"
        '<p><a href="{}">All stock changes of this product</a></p>', body, all_url)


def actor_label(row: StockAdjustment) -> str:
    if row.actor_email:
        return row.actor_email
    return f"user {row.actor_id}" if row.actor_id is not None else "system"


def low_stock_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Products on sale that are out of stock or down to the low-stock threshold, emptiest first."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    products = (Product.objects.filter(is_active=True).filter(stock_band(OUT) | stock_band(LOW))
                .select_related("category").annotate(available_sql=F("stock_on_hand") - F("stock_reserved"))
                .order_by("available_sql", "sku"))
    page = Paginator(products, LOW_STOCK_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Low stock",
        "page": page,
        "threshold": settings.ECOMMERCE_LOW_STOCK_THRESHOLD,
        "can_adjust": model_admin.has_change_permission(request),
    }
    return TemplateResponse(request, "admin/products/product/low_stock.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services. Nothing is offered but reading: no add, change or delete, and no
    "delete selected" action that would then answer that nobody has the permission."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        # There is no such page for anyone: "not found", not "no permission".
        raise Http404(f"{self.opts.verbose_name_plural.capitalize()} are never deleted by hand.")


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "sku", "delta", "on_hand_before", "on_hand_after", "reserved", "who", "source",
                    "reason")
    list_filter = ("source", "created_at")
    search_fields = ("sku", "reason", "actor_email")
    date_hierarchy = "created_at"

    @admin.display(description="Who", ordering="actor_email")
    def who(self, row: StockAdjustment) -> str:
        return actor_label(row)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockAdjustment]:
        return super().get_queryset(request).select_related("product")


@admin.register(StockReservation)
class StockReservationAdmin(ReadOnlyAdmin):
    """Reservations belong to the orders saga: they are settled by orders, never by hand."""

    list_display = ("order_id", "product", "quantity", "status", "confirmed", "created_at")
    list_filter = ("status", "confirmed")
    search_fields = ("order_id", "product__sku")
    list_select_related = ("product",)
