"""The effective price rule, written twice on purpose and kept side by side: in Python for what a caller is shown,
and as a SQL expression so the database can filter and order by it (a page of products sorted by price must not be
computed in Python). A discount applies only inside its window (an empty start or end leaves that side open), the
result is rounded half-up to cents and is never below zero."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Greatest, Round

from apps.products.models import DISCOUNTING_TYPES, DiscountType
from ecommerce.money import MONEY_FIELD, ZERO, to_money

HUNDRED = Decimal("100")


def discount_is_active(*, starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)


def effective_price(
    *,
    price: Decimal,
    discount_type: str,
    discount_value: Decimal,
    starts_at: datetime | None,
    ends_at: datetime | None,
    now: datetime,
) -> Decimal:
    if discount_type == DiscountType.NONE or not discount_is_active(starts_at=starts_at, ends_at=ends_at, now=now):
        return to_money(price)
    if discount_type == DiscountType.PERCENT:
        discounted = price * (HUNDRED - discount_value) / HUNDRED
    else:
        discounted = price - discount_value
    return max(to_money(discounted), ZERO)


def effective_price_expression(now: datetime) -> Case:
    """The same rule in SQL; ``now`` is a parameter so one query sees one instant."""
    money = DecimalField(**MONEY_FIELD)
    in_window = (Q(discount_starts_at__isnull=True) | Q(discount_starts_at__lte=now)) & (
        Q(discount_ends_at__isnull=True) | Q(discount_ends_at__gt=now)
    )
    percent_off = Round(
        F("price") * (Value(HUNDRED) - F("discount_value")) / Value(HUNDRED), 2, output_field=money
    )
    fixed_off = Greatest(F("price") - F("discount_value"), Value(ZERO), output_field=money)
    return Case(
        When(in_window & Q(discount_type=DiscountType.PERCENT), then=percent_off),
        When(in_window & Q(discount_type=DiscountType.FIXED), then=fixed_off),
        default=F("price"),
        output_field=money,
    )


def effective_price_candidates(*, min_price: Decimal | None, max_price: Decimal | None) -> Q:
    """A condition on the stored price alone that every product whose effective price lies within the bounds meets:
    adding it to a filter by effective price changes no answer, while an index on the price serves it instead of
    computing every product's effective price. It holds because a product without a discount sells at its price
    and a discount never raises a price (a percentage is 0 to 100, an amount at least 0, the result never below 0,
    all held by the table's constraints)."""
    undiscounted = ~Q(discount_type__in=DISCOUNTING_TYPES)
    discounted = Q(discount_type__in=DISCOUNTING_TYPES)
    if min_price is not None:
        undiscounted &= Q(price__gte=min_price)
        discounted &= Q(price__gte=min_price)
    if max_price is not None:
        undiscounted &= Q(price__lte=max_price)
    return undiscounted | discounted
