"""Input and output shapes of the cart endpoints. A client sends only product ids and quantities: prices, names and
stock always come from the catalog, so no price field exists on any input here."""

from __future__ import annotations

from rest_framework import serializers

from apps.gateway.api.validation import StrictInputSerializer
from ecommerce.contracts.carts import MAX_LINE_QUANTITY
from ecommerce.money import DECIMAL_PLACES

# No digit limit: line totals and the subtotal are computed (price x quantity, summed), never stored, so a cart of
# the dearest products in the largest quantities must still render; checkout refuses what an order cannot hold.
MONEY = {"max_digits": None, "decimal_places": DECIMAL_PLACES, "coerce_to_string": True}


class CartItemAddInputSerializer(StrictInputSerializer):
    product_id = serializers.IntegerField(min_value=1)
    # The carts context checks the range too (and the line's total against it): the schema states it for clients.
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY,
                                        help_text=f"How many to add (1 to {MAX_LINE_QUANTITY} per line).")


class CartItemQuantityInputSerializer(StrictInputSerializer):
    whole_on_patch = True  # PATCH /cart/items/{id} sets the quantity: it is required (ecommerce/api/schema.py)

    quantity = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY,
                                        help_text="The line's new quantity; 0 removes the line.")


class CartLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY, help_text="Today's effective price.")
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(**MONEY)
    available = serializers.IntegerField(help_text="Quantity available to buy now (0 if no longer sold).")
    price_changed_from = serializers.DecimalField(
        **MONEY, allow_null=True,
        help_text="The unit price when the line was added, when today's differs; null otherwise.")


class CartVoucherOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    discount = serializers.DecimalField(**MONEY, help_text="What it takes off the subtotal now.")
    problem = serializers.CharField(
        allow_null=True, help_text="Why it takes nothing off now (expired, used up, below its minimum ...); checkout "
        "refuses it with 400 `voucher_invalid` until it is removed. Null while it applies.")


class MergeNoticeOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    code = serializers.ChoiceField(choices=["quantity_capped"])
    requested = serializers.IntegerField(help_text="The guest's and the user's quantities together.")
    kept = serializers.IntegerField(help_text="What the cart holds now: capped at what is available.")


class CartOutputSerializer(serializers.Serializer):
    items = CartLineOutputSerializer(many=True)
    total_quantity = serializers.IntegerField()
    subtotal = serializers.DecimalField(**MONEY)
    voucher = CartVoucherOutputSerializer(allow_null=True)
    discount = serializers.DecimalField(**MONEY, help_text="The voucher's, 0.00 without one.")
    total = serializers.DecimalField(**MONEY, help_text="`subtotal` - `discount`; checkout's `expected_total` is "
                                     "compared with it. Shipping is added at checkout.")
    currency = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class MergedCartOutputSerializer(CartOutputSerializer):
    notices = MergeNoticeOutputSerializer(many=True, help_text="Guest lines that could not be merged whole.")


class GuestCartOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `X-Cart-Token` on the cart endpoints. Shown once.")


class VoucherApplyInputSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=64, help_text="The voucher's code, in any case.")
