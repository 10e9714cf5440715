"""Order admin for order_staff. Everything an order holds (money, lines, address, history, payments) is read-only
here, so the order page offers no Save at all: its status changes only through the actions the status machine allows
from where it stands (``status_actions``), which run the same services as the API, so history, outbox events, stock
effects and refunds apply exactly as they do there. Payments and the provider events that changed them (refused
ones included, with what they claimed) have read-only lists of their own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.orders import selectors
from apps.orders.admin.filters import DateRangeFilter
from apps.orders.admin.status_actions import BY_SLUG, CARRIER_FIELD, TRACKING_FIELD, StatusAction, actions_allowed
from apps.orders.models import Order, OrderLine, OrderStatusChange, Payment, ProviderEvent
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import ContractError

# The permission that lets staff move an order's status (Django's "change"; the order's fields stay read-only).
STATUS_CHANGE_PERMISSION = "orders.change_order"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ["created_at", "from_status", "to_status", "actor", "reason"]
    verbose_name_plural = "status history"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "actor"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # One look-up of every actor of the page's history, not one per row.
        actors = obj.status_changes.values_list("actor_id", flat=True) if obj is not None else []
        self._actor_emails = selectors.user_emails(user_ids=actors)
        self._order = obj
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="by")
    def actor(self, change: OrderStatusChange) -> str:
        if change.actor_id is None:
            return "the shop (automatic)"
        order, emails = getattr(self, "_order", None), getattr(self, "_actor_emails", {})
        email = emails.get(change.actor_id, f"user #{change.actor_id}")
        if order is not None and change.actor_id == order.user_id:
            return f"{order.customer_email or email} (customer)"
        return email


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["created_at", "provider", "status", "amount", "currency", "provider_payment_id", "failure_message",
              "refund_due", "refund_reason", "provider_refund_id"]
    show_change_link = True


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProviderEventInline(ReadOnlyInline):
    model = ProviderEvent
    fields = ["received_at", "type", "event_id", "outcome", "detail", "amount", "currency"]
    verbose_name_plural = "provider events"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "provider", "status", "amount", "currency", "refund_due", "created_at"]
    list_filter = ["provider", "status", "refund_due"]
    search_fields = ["=id", "order__number", "provider_payment_id", "provider_refund_id"]
    list_select_related = ["order"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    # The client secret lets its holder pay; staff never need it.
    exclude = ["client_secret"]
    inlines = [ProviderEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Payment._meta.fields if field.name != "client_secret"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "outcome", "payment", "amount", "currency", "detail"]
    list_filter = ["provider", "outcome", "type"]
    search_fields = ["event_id", "=payment__id", "payment__order__number"]
    list_select_related = ["payment"]
    ordering = ["-received_at"]
    date_hierarchy = "received_at"


class BulkShipForm(forms.Form):
    """One carrier for the batch, one tracking number per order (``tracking_<order id>``)."""

    carrier = CARRIER_FIELD

    def __init__(self, *args: Any, orders: list[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders
        for order in orders:
            self.fields[f"tracking_{order.id}"] = forms.CharField(
                max_length=TRACKING_FIELD.max_length, label=f"Tracking number of {order.number}")

    def rows(self) -> list[tuple[Order, Any]]:
        return [(order, self[f"tracking_{order.id}"]) for order in self.orders]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "currency", "payment_status", "created_at"]
    list_filter = ["status", "payment_status", ("created_at", DateRangeFilter)]
    search_fields = ["number", "customer_email", "=user_id", "lines__sku", "tracking_number"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, OrderStatusChangeInline]
    actions = ["mark_shipped"]
    change_form_template = "admin/orders/order/change_form.html"
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "created_at", "updated_at"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_cost", "discount", "total",
                              "payment_status", "payment_method"]}),
        ("Shipping address (as given at checkout)", {"fields": [
            "shipping_full_name", "shipping_street", "shipping_city", "shipping_state", "shipping_zip_code",
            "shipping_country", "shipping_phone"]}),
        ("Shipment", {"fields": ["shipping_carrier", "tracking_number"]}),
    ]

    @admin.display(description="customer", ordering="customer_email")
    def customer(self, order: Order) -> str:
        return order.customer_email or f"user #{order.user_id}"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*(field.name for field in Order._meta.fields), "customer"]

    # --- permissions: nothing on an order is edited as a form; its status moves through the actions ---------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: the page is read-only for everyone, so it offers no Save and refuses a POST (403)."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_status_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(STATUS_CHANGE_PERMISSION)

    # --- the order page and its actions ---------------------------------------------------------------------------
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        order = self.get_object(request, object_id)
        allowed = actions_allowed(order) if order and self.has_status_change_permission(request, order) else []
        extra_context = {**(extra_context or {}), "status_actions": [
            (action, reverse(f"admin:orders_order_{action.slug.replace('-', '_')}", args=[order.pk]))
            for action in allowed
        ]}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[Any]:
        def view_of(action: StatusAction) -> Any:
            def view(request: HttpRequest, object_id: str) -> HttpResponse:
                return self.status_action_view(request, object_id, action)

            return self.admin_site.admin_view(view)

        own = [path(f"<path:object_id>/{action.slug}/", view_of(action),
                    name=f"orders_order_{action.slug.replace('-', '_')}") for action in BY_SLUG.values()]
        return own + super().get_urls()

    def status_action_view(self, request: HttpRequest, object_id: str, action: StatusAction) -> HttpResponse:
        order = self.get_object(request, object_id)
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_status_change_permission(request, order):
            raise PermissionDenied
        order_page = reverse("admin:orders_order_change", args=[order.pk])
        if action not in actions_allowed(order):
            self.message_user(request, f"{order.number} is {order.status}: \"{action.label}\" is not possible from "
                                       f"there. Nothing was changed.", messages.ERROR)
            return HttpResponseRedirect(order_page)
        form = action.form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                action.run(order, request.user.pk, form.cleaned_data)
            except ContractError as error:
                self.message_user(request, f"{order.number}: {error.detail} Nothing was changed.", messages.ERROR)
            else:
                self.log_change(request, order, action.logged_as(form.cleaned_data))
                self.message_user(request, f"{order.number}: {action.logged_as(form.cleaned_data)}",
                                  messages.SUCCESS)
            return HttpResponseRedirect(order_page)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.label}: order {order.number}",
            "opts": self.opts, "order": order, "action": action, "form": form, "order_page": order_page,
            "refundable_payments": order.payments.filter(status="succeeded", refund_due=False)
            if action.to_status == OrderStatus.CANCELED else [],
        }
        return TemplateResponse(request, "admin/orders/order/status_action.html", context)

    # --- the list's bulk action -----------------------------------------------------------------------------------
    @admin.action(description="Ship selected orders…", permissions=["status_change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        """Asks for the carrier and each order's tracking number first; only paid orders can be shipped, the rest
        of the selection is named on that page and left alone."""
        selected = list(queryset.order_by("created_at"))
        shippable = [order for order in selected if order.status == OrderStatus.PAID]
        left_alone = [order for order in selected if order.status != OrderStatus.PAID]
        form = BulkShipForm(request.POST if "apply" in request.POST else None, orders=shippable)
        if "apply" in request.POST and shippable and form.is_valid():
            shipped = []
            for order in shippable:
                data = {"carrier": form.cleaned_data["carrier"],
                        "tracking_number": form.cleaned_data[f"tracking_{order.id}"]}
                try:
                    BY_SLUG["ship"].run(order, request.user.pk, data)
                except ContractError as error:
                    self.message_user(request, f"{order.number}: {error.detail} Nothing was changed.",
                                      messages.ERROR)
                else:
                    self.log_change(request, order, BY_SLUG["ship"].logged_as(data))
                    shipped.append(order.number)
            if shipped:
                self.message_user(request, f"Shipped: {', '.join(shipped)}.", messages.SUCCESS)
            return None
        if not shippable:
            self.message_user(request, "None of the selected orders is paid, so none can be shipped. Nothing was "
                                       "changed.", messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Ship orders", "opts": self.opts, "form": form, "left_alone": left_alone,
            "selected_ids": [str(order.pk) for order in selected],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/ship_confirmation.html", context)


# Vouchers have their own admin module; importing it registers them.
from apps.orders import admin_vouchers  # noqa: E402, F401
