"""Input and output shapes of the cart endpoints. A client sends only product ids and quantities: prices, names and
stock always come from the catalog, so no price field exists on any input here."""

from __future__ import annotations

from rest_framework import serializers

from ecommerce.money import DECIMAL_PLACES

# No digit limit: line totals and the subtotal are computed (price x quantity, summed), never stored, so a cart of
# the dearest products in the largest quantities must still render; checkout refuses what an order cannot hold.
MONEY = {"max_digits": None, "decimal_places": DECIMAL_PLACES, "coerce_to_string": True}


class CartItemAddInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    # The allowed range (at least 1, at most a per-line maximum) is a rule of the carts context, checked there.
    quantity = serializers.IntegerField(help_text="How many to add (at least 1).")


class CartItemQuantityInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="The line's new quantity; 0 removes the line.")


class CartLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY, help_text="Today's effective price.")
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(**MONEY)
    available = serializers.IntegerField(help_text="Quantity available to buy now (0 if no longer sold).")


class CartOutputSerializer(serializers.Serializer):
    items = CartLineOutputSerializer(many=True)
    total_quantity = serializers.IntegerField()
    subtotal = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)
