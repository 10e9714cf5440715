"""The sandbox processor's dashboard, for superusers: its intents, refunds and the webhook deliveries it owes the
shop (attempts, last answer, when it tries next). Read-only: it is the processor's record, not the shop's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.orders.sandbox_processor.models import Intent, Refund, WebhookEvent


class ProcessorRecordAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Intent)
class IntentAdmin(ProcessorRecordAdmin):
    list_display = ["id", "status", "amount", "currency", "amount_refunded", "card_last4", "created_at"]
    list_filter = ["status"]
    search_fields = ["=id"]
    exclude = ["client_secret"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Intent._meta.fields if field.name != "client_secret"]


@admin.register(Refund)
class RefundAdmin(ProcessorRecordAdmin):
    list_display = ["id", "intent", "amount", "created_at"]
    search_fields = ["=id", "=intent__id"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ProcessorRecordAdmin):
    list_display = ["id", "type", "created_at", "attempts", "last_status", "delivered_at", "next_attempt_at",
                    "abandoned_at"]
    list_filter = ["type"]
    search_fields = ["=id"]
