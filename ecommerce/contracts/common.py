"""Building blocks shared by every contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

from ecommerce.money import to_money

T = TypeVar("T")

# Money crosses every boundary as a two-place decimal string, never a float (rules in ecommerce.money).
Money = Annotated[Decimal, PlainSerializer(lambda value: str(to_money(value)), return_type=str, when_used="json")]


class DTO(BaseModel):
    """Frozen data carried across a contract. Unknown fields are an error: a contract change must be deliberate."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Page(DTO, Generic[T]):
    """One page of a list; the caller knows page and page size, the total lets it build the links."""

    count: int
    results: list[T]
