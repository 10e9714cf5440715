"""Paging rules shared by every context's list reads, so a page means the same thing whichever service answers."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet

from ecommerce.errors import ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
M = TypeVar("M")


def page_window(*, page: int, page_size: int) -> slice:
    """Rows of page ``page`` (from 1); the size is capped at MAX_PAGE_SIZE. A page or size below 1 is a client error."""
    errors = {}
    if page < 1:
        errors["page"] = ["Ensure this value is greater than or equal to 1."]
    if page_size < 1:
        errors["page_size"] = ["Ensure this value is greater than or equal to 1."]
    if errors:
        raise ValidationFailed(errors=errors)
    page_size = min(page_size, MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return slice(start, start + page_size)


def paginate(queryset: QuerySet[M], *, page: int, page_size: int) -> tuple[int, list[M]]:
    """The total count and one page: two queries whatever the page size (prefetches add theirs once)."""
    window = page_window(page=page, page_size=page_size)
    count = queryset.count()
    return count, list(queryset[window]) if window.start < count else []
