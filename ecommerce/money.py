"""Money, decided once for every context: two decimal places, rounded half-up, at most what a
``DecimalField(max_digits=12, decimal_places=2)`` column holds, in the one currency of the deployment.

Amounts are ``Decimal`` everywhere in the code and a two-place decimal string on every wire (contracts, API, events);
a float never carries money. Models, services, contracts and serializers take their field sizes, rounding and
limits from here, so a column, a validator and the schema cannot disagree."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

MAX_DIGITS = 12
DECIMAL_PLACES = 2
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a money column holds.
MAX_AMOUNT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES) - CENT
ROUNDING = ROUND_HALF_UP

# Keyword arguments of a money column (``models.DecimalField(**MONEY_FIELD)``) and of a money serializer field.
MONEY_FIELD: dict[str, Any] = {"max_digits": MAX_DIGITS, "decimal_places": DECIMAL_PLACES}


def to_money(value: Decimal | str | int) -> Decimal:
    """``value`` rounded to cents, half-up (``2.675`` → ``2.68``)."""
    return Decimal(value).quantize(CENT, rounding=ROUNDING)


def money_sum(values: Any) -> Decimal:
    return to_money(sum(values, ZERO))


def currency() -> str:
    """The shop's one currency (``ECOMMERCE_CURRENCY``), echoed on every money-bearing object."""
    return settings.ECOMMERCE_CURRENCY
