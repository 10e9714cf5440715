"""An index on the sale price of discounted products on sale (PostgreSQL only, like the search indexes): a price
range then reads, besides products priced within it, only the discounted products whose sale price is within it,
instead of every discounted product above the lower bound (see pricing.effective_price_candidates)."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models.functions import Greatest, Round

from apps.products.db import PostgresOnlyIndex

# A frozen copy of apps.products.pricing.sale_price_expression and the index's condition: a migration must keep
# meaning what it meant when written (the queries must spell the same expression for the index to serve them).
MONEY = models.DecimalField(max_digits=12, decimal_places=2)
PERCENT_OFF = Round(models.F("price") * (models.Value(Decimal("100")) - models.F("discount_value"))
                    / models.Value(Decimal("100")), 2, output_field=MONEY)
FIXED_OFF = Greatest(models.F("price") - models.F("discount_value"), models.Value(Decimal("0.00")), output_field=MONEY)
SALE_PRICE = models.Case(models.When(discount_type="percent", then=PERCENT_OFF), default=FIXED_OFF,
                         output_field=MONEY)


class Migration(migrations.Migration):

    dependencies = [
        ("products", "0006_price_range_count_indexes"),
    ]

    operations = [
        PostgresOnlyIndex(
            model_name="product",
            index=models.Index(SALE_PRICE, name="products_sale_price_idx",
                               condition=models.Q(is_active=True, discount_type__in=("percent", "fixed"))),
        ),
    ]
