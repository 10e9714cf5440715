"""Money, decided once for every context: two decimal places, rounded half-up, at most what a
``DecimalField(max_digits=12, decimal_places=2)`` column holds, in the one currency of the deployment. Payment
providers count in a currency's minor unit (cents, or whole yen: ISO 4217's exponent), converted here both ways.

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


# ISO 4217 currencies whose minor unit is not the cent. Every other currency has two decimals.
_CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
                     "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def _exponent(currency_code: str) -> int:
    return _CURRENCY_EXPONENTS.get(currency_code.upper(), DECIMAL_PLACES)


def to_minor_units(amount: Decimal, currency_code: str) -> int:
    """``Decimal("42.02")``, ``"USD"`` → ``4202``; ``Decimal("1000.00")``, ``"JPY"`` → ``1000``. An amount finer
    than the currency's minor unit is refused rather than rounded: a provider must charge exactly the order total."""
    scaled = to_money(amount) * (Decimal(10) ** _exponent(currency_code))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency_code} is finer than the currency's minor unit")
    return int(scaled)


def from_minor_units(units: int, currency_code: str) -> Decimal:
    """The inverse of :func:`to_minor_units`: ``4202``, ``"usd"`` → ``Decimal("42.02")``."""
    return to_money(Decimal(units).scaleb(-_exponent(currency_code)))
