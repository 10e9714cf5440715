"""Input validation for every view of the public API, in one place: a serializer checks a body or a query string,
and a failure is the 400 ``validation_error`` problem naming each bad field.

Rule guarded here: a body is never looser than its OpenAPI document. DRF coerces by default (``0`` becomes the
name ``"0"``, ``"0"`` becomes ``false``, ``"5"`` the integer 5); the document says each field's JSON type, so every
body serializer derives from ``StrictInputSerializer``, which refuses a value of another JSON type before any
coercion. Query strings are text by nature and keep the plain ``Serializer``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pycountry
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ecommerce.api.query import flat_query
from ecommerce.money import DECIMAL_PLACES, MAX_DIGITS

# Checked in this order, so the most specific field class wins (an EmailField is a CharField, ...).
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be an integer."),
    (serializers.DecimalField, (str,), 'Must be a decimal number written as a string, e.g. "19.99".'),
    (serializers.ChoiceField, (str,), "Must be a string."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.DateTimeField, (str,), "Must be an ISO 8601 date and time string."),
]

# Every text field refuses NUL characters (DRF does) and, unless it may be blank, needs a character that is not a
# space (the value is trimmed). StrictInputSerializer gives each plain text field the pattern, so the schema says it.
TEXT = RegexValidator(r"^[^\x00]*$", message="Null characters are not allowed.")
NON_BLANK_TEXT = RegexValidator(r"^[^\x00]*[^\s\x00][^\x00]*$",
                                message="This field may not be blank, nor hold null characters.")
# Money as the schema writes it: a string of digits with at most two decimals, never negative.
MONEY_PATTERN = rf"^[0-9]{{1,{MAX_DIGITS - DECIMAL_PLACES}}}(?:\.[0-9]{{1,{DECIMAL_PLACES}}})?$"

# ISO 3166-1 alpha-2, upper case, exactly as the OpenAPI document lists them.
COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)


def _type_error(field: serializers.Field, value: Any) -> str | None:
    for field_class, json_types, message in _JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in json_types:
                return message
            return None if isinstance(value, json_types) else message
    return None


@extend_schema_field({"type": "string", "pattern": MONEY_PATTERN, "example": "19.99"})
class MoneyInputField(serializers.DecimalField):
    """An amount as the schema states it (``"19.99"``): DRF alone would also take ``"1e2"``, ``" 5"`` or ``-0``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, min_value=0, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not re.fullmatch(MONEY_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInputSerializer(serializers.Serializer):
    """A request body: each field takes only the JSON type its schema states, never a value DRF would coerce."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            is_plain_text = type(field) is serializers.CharField
            if is_plain_text and not any(isinstance(v, RegexValidator) for v in field.validators):
                field.validators.append(TEXT if field.allow_blank else NON_BLANK_TEXT)
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue  # absent or null: the field's own required / allow_null rules answer
                message = _type_error(field, value)
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def validated(serializer_class: type[serializers.Serializer], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def validated_query(serializer_class: type[serializers.Serializer], params: Any) -> dict[str, Any]:
    """A query string's parameters, each read as its schema states it (``ecommerce/api/query.py``)."""
    return validated(serializer_class, flat_query(params))
