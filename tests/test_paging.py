"""Paging means the same thing in every context."""

import pytest

from ecommerce.errors import ValidationFailed
from ecommerce.paging import MAX_PAGE_SIZE, page_window


def test_pages_count_from_one_and_sizes_are_capped() -> None:
    assert page_window(page=1, page_size=20) == slice(0, 20)
    assert page_window(page=3, page_size=10) == slice(20, 30)
    assert page_window(page=2, page_size=10_000) == slice(MAX_PAGE_SIZE, 2 * MAX_PAGE_SIZE)


def test_a_page_or_size_below_one_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as raised:
        page_window(page=0, page_size=0)

    assert set(raised.value.errors) == {"page", "page_size"}
