"""Input and output shapes of the public catalog API. Inputs check types, required fields, lengths and money format
(the products service applies the domain rules); outputs render contract DTOs, money as two-place strings with the
deployment's currency. Read-only fields are simply not declared on inputs, so a client can never set them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.gateway.api.validation import MoneyInputField, StrictInputSerializer
from ecommerce.api.query import QueryBooleanField
from ecommerce.contracts.products import STOCK_REASON_MAX_LENGTH, DiscountType, ProductOrdering
from ecommerce.money import MONEY_FIELD, currency

MAX_STOCK = 2_147_483_647


# --- categories -----------------------------------------------------------------------------------------------------

class CategoryInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False, allow_null=True, allow_blank=True,
                                 help_text="Made from the name when omitted.")
    description = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)


# --- products -------------------------------------------------------------------------------------------------------

class ProductInputSerializer(StrictInputSerializer):
    """PUT and PATCH body (PATCH: every field optional). ``stock`` is not here: it changes only through /stock."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=255, required=False, allow_null=True, allow_blank=True,
                                 help_text="Made from the name when omitted.")
    short_description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    price = MoneyInputField()
    discount_type = serializers.ChoiceField(choices=[t.value for t in DiscountType], required=False)
    discount_value = MoneyInputField(required=False,
                                              help_text="Percent (0-100) or an amount, per discount_type.")
    discount_starts_at = serializers.DateTimeField(required=False, allow_null=True)
    discount_ends_at = serializers.DateTimeField(required=False, allow_null=True)
    image_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class ProductCreateInputSerializer(ProductInputSerializer):
    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK,
                                     help_text="Initial quantity on hand.")


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    short_description = serializers.CharField()
    description = serializers.CharField()
    category = serializers.IntegerField(allow_null=True)
    price = serializers.DecimalField(**MONEY_FIELD)
    discount_type = serializers.ChoiceField(choices=[t.value for t in DiscountType])
    discount_value = serializers.DecimalField(**MONEY_FIELD)
    discount_starts_at = serializers.DateTimeField(allow_null=True)
    discount_ends_at = serializers.DateTimeField(allow_null=True)
    effective_price = serializers.DecimalField(**MONEY_FIELD)
    currency = serializers.SerializerMethodField()
    image_url = serializers.CharField()
    stock = serializers.IntegerField(help_text="Quantity available to buy now.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(help_text="ISO 4217 code of every amount."))
    def get_currency(self, product: object) -> str:
        return currency()


class ProductQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, trim_whitespace=True)
    category = serializers.IntegerField(required=False, min_value=1)
    min_price = MoneyInputField(required=False)
    max_price = MoneyInputField(required=False)
    in_stock = QueryBooleanField(required=False, default=None)
    ordering = serializers.ChoiceField(choices=[o.value for o in ProductOrdering], required=False)

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not be greater than max_price."]})
        return attrs


@extend_schema_field({"type": "integer", "minimum": -MAX_STOCK, "maximum": MAX_STOCK, "not": {"enum": [0]}})
class StockDeltaField(serializers.IntegerField):
    def to_internal_value(self, data: object) -> int:
        value = super().to_internal_value(data)
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class StockAdjustInputSerializer(StrictInputSerializer):
    delta = StockDeltaField(min_value=-MAX_STOCK, max_value=MAX_STOCK,
                            help_text="Positive receives stock, negative writes it off; never zero.")
    reason = serializers.CharField(max_length=STOCK_REASON_MAX_LENGTH, required=False, allow_blank=True, default="",
                                   help_text="Why the stock changed (delivery, damage, count...); kept in the audit "
                                             "trail with who changed it and the quantities before and after.")
