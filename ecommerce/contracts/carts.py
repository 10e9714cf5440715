"""Carts context contract. A cart holds product ids and quantities (and, per line, the unit price the shopper was
shown when adding it, so a price change can be pointed out); it never asks the catalog for a price, a name or a stock
level (carts is a leaf context that calls no other). Whoever shows a cart prices it (the gateway, with one catalog
call), and whoever adds to it passes the quantity the catalog has available, which the cart enforces under its own
row lock.

A cart is named by ``user_id`` (a signed-in shopper's) or by ``guest_token`` (a guest's, from ``guest_cart_create``):
exactly one of the two. An unknown or expired guest token is NotFound. Signing in merges the guest cart into the
user's (``guest_cart_merge``) once, however many sign-ins race. A cart may carry one voucher code; whether it applies
is for the orders context to say.

Checkout *claims* a cart: the lines move out of the cart into a claim keyed by the order id, so the cart is empty at
once and a second checkout of the same cart finds nothing to take. The claim is then completed (the order exists)
or released (the lines go back into the cart); a claim left open by a checkout that died is released on its own.

Besides its methods, the context publishes one version per user's cart in the shared cache
(``ecommerce.cache_versions``, named by ``cart_version``): it changes with every change of the cart (its lines, its
voucher), so a caller may cache what ``cart_get`` answered for a user under the version it read before the call."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from uuid import UUID

from pydantic import Field

from ecommerce.contracts.common import DTO, Money
from ecommerce.rpc import Service, ServiceDelegator, rpc_method

# No shopper needs more of one product than this in one cart; larger numbers are typos or abuse. A rule of the carts
# context, stated here so that the public API's schema can say it too.
MAX_LINE_QUANTITY = 1000

def cart_version(user_id: int) -> str:
    """The name of the version of one user's cart."""
    return f"carts.cart:{user_id}"


class CartLineDTO(DTO):
    product_id: int
    quantity: int = Field(ge=1)
    added_unit_price: Money | None = Field(default=None, description="The unit price shown when first added.")


class CartDTO(DTO):
    user_id: int | None
    items: list[CartLineDTO] = Field(description="In the order the lines were first added.")
    updated_at: datetime | None
    voucher_code: str | None = None


class CartClaimDTO(DTO):
    order_id: UUID
    lines: list[CartLineDTO] = Field(description="What the claim took, one line per product, by product id.")
    voucher_code: str | None = None


class GuestCartDTO(DTO):
    token: str = Field(description="Shown once; only its hash is kept.")


class MergeNotice(DTO):
    """A guest line that could not be merged whole: ``kept`` of the ``requested`` units are in the user's cart."""

    product_id: int
    code: str
    requested: int
    kept: int


class CartMergeResult(DTO):
    cart: CartDTO
    notices: list[MergeNotice]


class CartsService(Service):
    service_name = "carts"
    local_implementation = "apps.carts.rpc.LocalCartsService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_get(self, *, user_id: int | None = None, guest_token: str | None = None) -> CartDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def cart_item_add(self, *, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                      quantity: int, available: int, unit_price: Money | None = None) -> CartDTO:
        """Add ``quantity`` to the line (made if missing). The line's new quantity must be between 1 and the
        per-line maximum (else ValidationFailed) and at most ``available`` (else InsufficientStock naming the line);
        the caller read ``available`` and the ``unit_price`` it shows from the catalog. A line made here keeps that
        price as the one the shopper saw."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_set_quantity(self, *, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                               quantity: int, available: int) -> CartDTO:
        """Quantity 0 removes the line (``available`` is not looked at then). A product not in the cart is
        NotFound."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_item_remove(self, *, user_id: int | None = None, guest_token: str | None = None,
                         product_id: int) -> CartDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_clear(self, *, user_id: int | None = None, guest_token: str | None = None) -> None: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_voucher_set(self, *, user_id: int | None = None, guest_token: str | None = None,
                         code: str | None) -> CartDTO:
        """Keep ``code`` as the cart's voucher (None removes it). The caller checked it with the orders context."""

    # --- guest carts ---
    @rpc_method(idempotent=False)
    @abstractmethod
    def guest_cart_create(self) -> GuestCartDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def guest_cart_merge(self, *, guest_token: str, user_id: int, available: dict[int, int],
                         unit_prices: dict[int, Money]) -> CartMergeResult:
        """Move the guest cart's lines into the user's cart and delete the guest cart, in one transaction: quantities
        are added, each line capped at ``available`` (a product missing there has none) and at the per-line
        maximum, and each capped line is reported. Merged lines take ``unit_prices`` (today's) as the price seen.
        A guest voucher is kept when the user's cart has none. Done once: a guest cart already merged (or unknown,
        or expired) merges nothing and the user's cart is returned as it is."""

    # --- checkout claims, keyed by order id; each call is idempotent ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def cart_claim(self, *, user_id: int, order_id: UUID, replaces_order_id: UUID | None = None) -> CartClaimDTO:
        """Move every line of the cart, and its voucher code, into a claim for ``order_id`` and return them.
        Nothing to claim: ValidationFailed naming the cart if no other checkout holds a claim on it, else
        CartCheckoutInProgress.
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
