"""The effective price rule, written twice on purpose and kept side by side: in Python for what a caller is shown,
and as a SQL expression so the database can filter and order by it (a page of products sorted by price must not be
computed in Python). A discount applies only inside its window (an empty start or end leaves that side open), the
result is rounded half-up to cents and is never below zero."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Greatest, Round
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

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


def sale_price_expression() -> Case:
    """What a discounted product sells for while its discount window is open, in SQL. It does not depend on the
    time, so a price range can find discounted products by it from an index (see effective_price_candidates)."""
    money = DecimalField(**MONEY_FIELD)
    percent_off = Round(
        F("price") * (Value(HUNDRED) - F("discount_value")) / Value(HUNDRED), 2, output_field=money
    )
    fixed_off = Greatest(F("price") - F("discount_value"), Value(ZERO), output_field=money)
    return Case(When(discount_type=DiscountType.PERCENT, then=percent_off), default=fixed_off, output_field=money)


def effective_price_expression(now: datetime) -> Case:
    """The same rule in SQL; ``now`` is a parameter so one query sees one instant."""
    in_window = (Q(discount_starts_at__isnull=True) | Q(discount_starts_at__lte=now)) & (
        Q(discount_ends_at__isnull=True) | Q(discount_ends_at__gt=now)
    )
    # The kind first: most products have no discount, and their price is then known without reading the window.
    return Case(
        When(Q(discount_type__in=DISCOUNTING_TYPES) & in_window, then=sale_price_expression()),
        default=F("price"),
        output_field=DecimalField(**MONEY_FIELD),
    )


def effective_price_candidates(*, min_price: Decimal | None, max_price: Decimal | None) -> Q:
    """A condition that every product whose effective price lies within the bounds meets, on columns an index
    holds: adding it to a filter by effective price changes no answer, while indexes serve it instead of computing
    every product's effective price. A product sells at its price, or, when discounted and inside the window, at
    its sale price; so its effective price is within the bounds only if its price is, or it is discounted and its
    sale price is (models.SALE_PRICE_INDEX finds those)."""
    price_within = Q()
    sale_price_within = Q()
    if min_price is not None:
        price_within &= Q(price__gte=min_price)
        sale_price_within &= Q(GreaterThanOrEqual(sale_price_expression(), Value(min_price)))
    if max_price is not None:
        price_within &= Q(price__lte=max_price)
        sale_price_within &= Q(LessThanOrEqual(sale_price_expression(), Value(max_price)))
    discounted = Q(discount_type__in=DISCOUNTING_TYPES)
    # Spelled per partial index (undiscounted by price, discounted by price, discounted by sale price) so that
    # each part is read off its own index.
    return (~discounted & price_within) | (discounted & price_within) | (discounted & sale_price_within)
