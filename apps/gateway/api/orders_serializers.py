"""Input and output shapes of the order endpoints. What a client chooses at checkout is the shipping address (a saved
one by id, or one given inline) and, optionally, the total it expects to pay for the goods; status, prices and totals
are the server's, so no input here sets them and unknown body fields are dropped."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from apps.gateway.api.accounts_serializers import PostalAddressInputSerializer
from apps.gateway.api.validation import MoneyInputField, StrictInputSerializer
from ecommerce.contracts.orders import CARRIER_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH, OrderStatus
from ecommerce.money import MONEY_FIELD

MONEY = {**MONEY_FIELD, "coerce_to_string": True}
IDEMPOTENCY_KEY_MAX_LENGTH = 255
STATUS_CHOICES = [status.value for status in OrderStatus]
# A checkout names its address one way or the other, never both (the serializer's rule and the document's oneOf).
CHECKOUT_ADDRESS_FIELDS = ("address_id", "shipping_address")


class InlineShippingAddressInputSerializer(PostalAddressInputSerializer):
    """The same rules as the address endpoints (the users service checks them again)."""

    save = serializers.BooleanField(required=False, default=False,
                                    help_text="Also add it to the user's addresses; otherwise only the order keeps it.")


class CheckoutInputSerializer(StrictInputSerializer):
    address_id = serializers.IntegerField(min_value=1, required=False,
                                          help_text="One of the signed-in user's addresses.")
    shipping_address = InlineShippingAddressInputSerializer(
        required=False, help_text="An address given here instead of `address_id`.")
    expected_total = MoneyInputField(
        required=False,
        help_text="The cart `total` the shopper saw. When the cart's total now differs: 409 `price_changed` and "
        "nothing is reserved. Left out, checkout charges today's prices, as before.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if sum(name in attrs for name in CHECKOUT_ADDRESS_FIELDS) != 1:
            raise serializers.ValidationError({"address_id": ["Give either address_id or shipping_address."]})
        return attrs


class CheckoutInputSchema(OpenApiSerializerExtension):
    """The document states ``validate``'s rule as a ``oneOf``: a body names exactly one of the two addresses."""

    target_class = CheckoutInputSerializer

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "oneOf": [{"required": [name]} for name in CHECKOUT_ADDRESS_FIELDS]}


class IdempotencyKeyHeaderSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH, trim_whitespace=False,
        error_messages={"required": "The Idempotency-Key header is required.",
                        "blank": "The Idempotency-Key header is required."},
    )


class OrderListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False)
    user_id = serializers.IntegerField(min_value=1, required=False, help_text="order_staff and admin only.")


class OrderStatusInputSerializer(StrictInputSerializer):
    """Shipping may name the parcel's carrier and tracking number (both, or neither as before); no other status
    takes them."""

    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    carrier = serializers.CharField(max_length=CARRIER_MAX_LENGTH, required=False,
                                    help_text="Only with `shipped`, together with `tracking_number`: e.g. UPS.")
    tracking_number = serializers.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, required=False,
                                            help_text="Only with `shipped`, together with `carrier`.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        shipment = [name for name in ("carrier", "tracking_number") if name in attrs]
        if shipment and attrs["status"] != OrderStatus.SHIPPED:
            raise serializers.ValidationError({name: ["Only when the status is shipped."] for name in shipment})
        if len(shipment) == 1:
            missing = "tracking_number" if shipment == ["carrier"] else "carrier"
            raise serializers.ValidationError({missing: ["Required together with " + shipment[0] + "."]})
        return attrs


class OrderLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY, help_text="Effective price at checkout; never changes.")
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(**MONEY)


class ShippingAddressOutputSerializer(serializers.Serializer):
    full_name = serializers.CharField()
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(allow_blank=True)
    zip_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    phone = serializers.CharField(allow_blank=True)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    items = OrderLineOutputSerializer(many=True)
    subtotal = serializers.DecimalField(**MONEY)
    shipping_cost = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    shipping_address = ShippingAddressOutputSerializer(help_text="Copy taken at checkout.")
    payment_status = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    carrier = serializers.CharField(allow_null=True, help_text="Who took the parcel; null until shipped with one.")
    tracking_number = serializers.CharField(allow_null=True, help_text="The carrier's; null until shipped with one.")
