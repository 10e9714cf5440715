"""Field validation shared by the products services.

Rule guarded here: every bad input becomes ``ValidationFailed`` with field errors, including the unique races that
only the database can decide (sku, slug): no ``IntegrityError`` ever leaves the products services. Helpers append to
an ``Errors`` dict so one call can report every bad field at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from ecommerce.errors import ValidationFailed
from ecommerce.money import CENT, MAX_AMOUNT

MAX_STOCK = 2_147_483_647  # PositiveIntegerField on PostgreSQL
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_SAVE_ATTEMPTS = 3

Errors = dict[str, list[str]]


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def required_text(errors: Errors, field: str, value: Any, max_length: int | None) -> str:
    if value is None:
        add_error(errors, field, "This field may not be null.")
        return ""
    text = str(value).strip()
    if not text:
        add_error(errors, field, "This field may not be blank.")
    elif max_length is not None and len(text) > max_length:
        add_error(errors, field, f"Ensure this field has no more than {max_length} characters.")
    return text


def optional_text(errors: Errors, field: str, value: Any, max_length: int | None) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        add_error(errors, field, f"Ensure this field has no more than {max_length} characters.")
    return text


def money(errors: Errors, field: str, value: Any) -> Decimal:
    if value is None:
        add_error(errors, field, "This field may not be null.")
        return Decimal("0.00")
    try:
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        add_error(errors, field, "A valid number is required.")
        return Decimal("0.00")
    if amount < 0:
        add_error(errors, field, "Ensure this value is greater than or equal to 0.")
    elif amount > MAX_AMOUNT:
        add_error(errors, field, f"Ensure this value is less than or equal to {MAX_AMOUNT}.")
    elif amount != amount.quantize(CENT):
        add_error(errors, field, "Ensure that there are no more than 2 decimal places.")
    else:
        return amount.quantize(CENT)
    return Decimal("0.00")


def aware(value: datetime | None) -> datetime | None:
    # A timestamp without a zone is read as UTC, the API's only zone.
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value


def slug_errors(errors: Errors, slug: str, *, model: type[models.Model], max_length: int, exclude_pk: int | None):
    if len(slug) > max_length:
        add_error(errors, "slug", f"Ensure this field has no more than {max_length} characters.")
    elif not SLUG_RE.match(slug):
        add_error(errors, "slug", "Enter a valid slug: letters, numbers, underscores or hyphens.")
    elif model._default_manager.filter(slug=slug).exclude(pk=exclude_pk).exists():
        add_error(errors, "slug", "This slug is already in use.")


def unique_slug(model: type[models.Model], source: str, *, max_length: int, fallback: str,
                exclude_pk: int | None = None) -> str:
    """``source`` slugified, with ``-2``, ``-3``... appended until no other row uses it (one query)."""
    base = slugify(source)[: max_length - 8].strip("-") or fallback
    taken = set(
        model._default_manager.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def save_guarding_uniques(instance: models.Model, *, conflict_errors: Callable[[], Errors],
                          regenerate_slug: Callable[[], str] | None) -> None:
    """Save, turning a lost unique race into field errors; an auto-made slug that lost its race is made again."""
    for attempt in range(_SAVE_ATTEMPTS):
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError as error:
            errors = conflict_errors()
            if errors:
                raise ValidationFailed(errors=errors) from error
            if regenerate_slug is None or attempt == _SAVE_ATTEMPTS - 1:
                raise ValidationFailed("The change conflicts with another one; please retry.") from error
            instance.slug = regenerate_slug()  # type: ignore[attr-defined]

