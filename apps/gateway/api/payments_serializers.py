"""Input and output shapes of the payment endpoints. A client never sends an amount: a payment is always for its
order's total. The card number is the sandbox's test step only; it is passed on, never stored or echoed."""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.gateway.api.validation import StrictInputSerializer
from ecommerce.contracts.orders import PaymentStatus, WebhookOutcome
from ecommerce.money import MONEY_FIELD

MONEY = {**MONEY_FIELD, "coerce_to_string": True}
# 12 to 19 digits; spaces and dashes between groups are allowed and dropped. The schema states the same pattern.
CARD_NUMBER = RegexValidator(r"^[ -]*(?:[0-9][ -]*){12,19}$", message="Enter a card number of 12 to 19 digits.")
PAYMENT_STATUS_CHOICES = [status.value for status in PaymentStatus]


class CardNumberField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(trim_whitespace=False, validators=[CARD_NUMBER], **kwargs)

    def to_internal_value(self, data: object) -> str:
        text = super().to_internal_value(data)
        CARD_NUMBER(text)  # on the number as sent, before the separators go
        return re.sub(r"[ -]", "", text)


class PaymentConfirmInputSerializer(StrictInputSerializer):
    card_number = CardNumberField(
        max_length=32, help_text="Sandbox test cards: 4242424242424242 succeeds, 4000000000000002 is declined.")


class PaymentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    provider = serializers.CharField(help_text="`sandbox`, `stripe`, or `manual` (paid offline, recorded by staff).")
    status = serializers.ChoiceField(choices=PAYMENT_STATUS_CHOICES)
    amount = serializers.DecimalField(**MONEY, help_text="The order's total.")
    currency = serializers.CharField()
    client_secret = serializers.CharField(
        allow_null=True, help_text="What the provider's page needs to take the payment; shown to the order's owner "
        "only (null for staff).")
    failure_message = serializers.CharField(allow_null=True, help_text="Why the payment failed (a declined card).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookReceiptSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=[outcome.value for outcome in WebhookOutcome],
        help_text="`applied`; `duplicate` (seen before: nothing changed twice); `ignored` (nothing to do); "
        "`rejected` (amount or currency do not match the payment: kept for staff, nothing changed).")
