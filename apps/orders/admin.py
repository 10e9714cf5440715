"""Order admin for order_staff. Everything an order holds (money, lines, address, history, payments) is read-only
here: its status changes only through the actions below, which run the same service as the API, so the status
machine, history, outbox events and stock effects apply exactly as they do there. Payments and the provider events
that changed them (refused ones included, with what they claimed) have read-only lists of their own."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.orders import services
from apps.orders.models import Order, OrderLine, OrderStatusChange, Payment, ProviderEvent
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import ContractError


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
    fields = ["created_at", "from_status", "to_status", "actor_id", "reason"]
    verbose_name_plural = "status history"


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


def _transition_action(to_status: OrderStatus, description: str):
    @admin.action(description=description, permissions=["change"])
    def action(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        changed = []
        for order in queryset.order_by("created_at"):
            try:
                if to_status == OrderStatus.CANCELED:
                    services.order_cancel(order_id=order.id, user_id=None, actor_id=request.user.pk)
                else:
                    services.order_transition(order_id=order.id, status=to_status, actor_id=request.user.pk,
                                              reason="changed by staff in the admin")
            except ContractError as error:
                modeladmin.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            else:
                changed.append(order.number)
        if changed:
            modeladmin.message_user(request, f"{description}: {', '.join(changed)}.", messages.SUCCESS)

    action.__name__ = f"mark_{to_status.value}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "user_id", "status", "total", "payment_status", "created_at"]
    list_filter = ["status", "payment_status"]
    search_fields = ["number", "=user_id", "lines__sku"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, OrderStatusChangeInline]
    actions = [
        _transition_action(OrderStatus.PAID, "Mark paid (manual payment)"),
        _transition_action(OrderStatus.SHIPPED, "Mark shipped"),
        _transition_action(OrderStatus.DELIVERED, "Mark delivered"),
        _transition_action(OrderStatus.CANCELED, "Cancel"),
    ]
    fieldsets = [
        (None, {"fields": ["id", "number", "user_id", "status", "created_at", "updated_at"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_cost", "discount", "total",
                              "payment_status", "payment_method"]}),
        ("Shipping address", {"fields": ["shipping_full_name", "shipping_street", "shipping_city",
                                         "shipping_state", "shipping_zip_code", "shipping_country",
                                         "shipping_phone"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Order._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        """Nothing on the form is editable; saving must not even touch ``updated_at``."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Lines and history are read-only too."""

# Vouchers have their own admin module; importing it registers them.
from apps.orders import admin_vouchers  # noqa: E402, F401
