"""Carts context contract. A cart holds product ids and quantities, nothing else: it never asks the catalog for a
price, a name or a stock level (carts is a leaf context that calls no other). Whoever shows a cart prices it
(the gateway, with one catalog call), and whoever adds to it passes the quantity the catalog has available, which the
cart enforces under its own row lock.

Checkout *claims* a cart: the lines move out of the cart into a claim keyed by the order id, so the cart is empty at
once and a second checkout of the same cart finds nothing to take. The claim is then completed (the order exists)
or released (the lines go back into the cart); a claim left open by a checkout that died is released on its own."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from uuid import UUID

from pydantic import Field

from ecommerce.contracts.common import DTO
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class CartLineDTO(DTO):
    product_id: int
    quantity: int = Field(ge=1)


class CartDTO(DTO):
    user_id: int
    items: list[CartLineDTO] = Field(description="In the order the lines were first added.")
    updated_at: datetime | None


class CartClaimDTO(DTO):
    order_id: UUID
    lines: list[CartLineDTO] = Field(description="What the claim took, one line per product, by product id.")


class CartsService(Service):
    service_name = "carts"
    local_implementation = "apps.carts.rpc.LocalCartsService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_get(self, *, user_id: int) -> CartDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def cart_item_add(self, *, user_id: int, product_id: int, quantity: int, available: int) -> CartDTO:
        """Add ``quantity`` to the line (made if missing). The line's new quantity must be between 1 and the
        per-line maximum (else ValidationFailed) and at most ``available`` (else InsufficientStock naming the line);
        the caller read ``available`` from the catalog."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_set_quantity(self, *, user_id: int, product_id: int, quantity: int, available: int) -> CartDTO:
        """Quantity 0 removes the line (``available`` is not looked at then). A product not in the cart is
        NotFound."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_remove(self, *, user_id: int, product_id: int) -> CartDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_clear(self, *, user_id: int) -> None: ...

    # --- checkout claims, keyed by order id; each call is idempotent ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_claim(self, *, user_id: int, order_id: UUID, replaces_order_id: UUID | None = None) -> CartClaimDTO:
        """Move every line of the cart into a claim for ``order_id`` and return them. Nothing to claim:
        ValidationFailed naming the cart if no other checkout holds a claim on it, else CartCheckoutInProgress.
        Asked again for the same order, it returns the same lines. ``replaces_order_id``: the order id of a dead
        checkout with the same idempotency key; its open claim is given back to the cart first, in the same
        transaction, so this checkout takes its lines over."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_claim_release(self, *, order_id: UUID) -> None:
        """The checkout failed: the claimed lines go back into the cart, merged with what was added meanwhile and
        capped at the per-line maximum. A no-op for a claim that is not open."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_claim_complete(self, *, order_id: UUID) -> None:
        """The order holding the claim is durable: the claim is settled for good. A no-op for a claim that is
        not open."""


carts_service: CartsService = ServiceDelegator(CartsService)  # type: ignore[assignment]
