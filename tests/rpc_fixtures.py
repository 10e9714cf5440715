"""A small contract used to test the RPC mechanism itself, independent of any bounded context."""

from __future__ import annotations

from abc import abstractmethod
from decimal import Decimal

from ecommerce.contracts.common import DTO, Money
from ecommerce.errors import InsufficientStock, NotFound
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class Quote(DTO):
    sku: str
    amount: Money
    tags: list[str]


class QuoteChanges(DTO):
    note: str | None = None
    amount: Decimal | None = None


class QuoteService(Service):
    service_name = "quotes"
    local_implementation = "tests.rpc_fixtures.LocalQuoteService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def quote_get(self, *, sku: str, quantity: int = 1) -> Quote: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def quote_fields_set(self, *, changes: QuoteChanges) -> list[str]: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def quote_explode(self) -> None: ...


class LocalQuoteService(QuoteService):
    def quote_get(self, *, sku: str, quantity: int = 1) -> Quote:
        if sku == "missing":
            raise NotFound("No such quote.")
        if quantity > 3:
            raise InsufficientStock("Short.", lines=[{"product_id": 1, "requested": quantity, "available": 3}])
        return Quote(sku=sku, amount=Decimal("19.99") * quantity, tags=["a", "b"])

    def quote_fields_set(self, *, changes: QuoteChanges) -> list[str]:
        return sorted(changes.model_fields_set)

    def quote_explode(self) -> None:
        raise RuntimeError("database password is hunter2")


quote_service: QuoteService = ServiceDelegator(QuoteService)  # type: ignore[assignment]
