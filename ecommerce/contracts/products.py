"""Products context contract: categories, products, prices and stock (including reservations for orders).

Besides its methods, the context publishes two versions in the shared cache (``ecommerce.cache_versions``) so that
callers may cache what they read from it: ``CATALOG_VERSION`` changes with every change of a product or category
(anything but stock), ``STOCK_VERSION`` with every change of stock (adjustment, reservation, release, commit,
expiry). A reader reads them before it calls, keeps them with what it caches, and trusts the entry only while both
are unchanged; it also bounds the entry's life by the answer's ``valid_until``, because an effective price changes
by itself when a discount window opens or closes."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from ecommerce.contracts.common import DTO, Money, Page
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class CategoryDTO(DTO):
    id: int
    name: str
    slug: str
    description: str
    parent: int | None


class CategoryInput(DTO):
    name: str
    slug: str | None = None
    description: str = ""
    parent: int | None = None


class CategoryChanges(DTO):
    """Partial update; only fields that were set are applied (``parent=None`` when set detaches it)."""

    name: str | None = None
    slug: str | None = None
    description: str | None = None
    parent: int | None = None


class DiscountType(StrEnum):
    NONE = "none"
    PERCENT = "percent"
    FIXED = "fixed"


class ProductOrdering(StrEnum):
    PRICE = "price"
    PRICE_DESC = "-price"
    NAME = "name"
    NAME_DESC = "-name"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"


class ProductDTO(DTO):
    id: int
    sku: str
    name: str
    slug: str
    short_description: str
    description: str
    category: int | None
    price: Money
    discount_type: DiscountType
    discount_value: Money
    discount_starts_at: datetime | None
    discount_ends_at: datetime | None
    effective_price: Money
    image_url: str
    stock: int = Field(description="Quantity available to buy now (on hand minus reserved).")
    is_active: bool
    created_at: datetime
    updated_at: datetime


    def next_price_change(self, now: datetime) -> datetime | None:
        """The first instant after ``now`` at which ``effective_price`` changes by itself (a window boundary)."""
        if self.discount_type == DiscountType.NONE:
            return None
        boundaries = [at for at in (self.discount_starts_at, self.discount_ends_at) if at is not None and at > now]
        return min(boundaries, default=None)


class ProductPage(DTO):
    """One page of products. ``valid_until``: the first instant at which this answer may change without any write,
    because a discount window of a listed product (or, when the list is filtered or ordered by price, of any
    product) opens or closes; None when no such instant is ahead."""

    count: int
    results: list[ProductDTO]
    valid_until: datetime | None = None


class StockLevel(DTO):
    """What changes with every sale: the quantity available now, and the product's last change time."""

    product_id: int
    stock: int
    updated_at: datetime


CATALOG_VERSION = "products.catalog"
STOCK_VERSION = "products.stock"


class ProductInput(DTO):
    sku: str
    name: str
    slug: str | None = None
    short_description: str = ""
    description: str = ""
    category: int | None = None
    price: Decimal
    discount_type: DiscountType = DiscountType.NONE
    discount_value: Decimal = Decimal("0")
    discount_starts_at: datetime | None = None
    discount_ends_at: datetime | None = None
    image_url: str = ""
    is_active: bool = True
    stock: int = Field(default=0, ge=0, description="Initial quantity on hand; used on create only.")


class ProductChanges(DTO):
    """Partial update; only fields that were set are applied. Stock is not here: it moves through its own calls."""

    sku: str | None = None
    name: str | None = None
    slug: str | None = None
    short_description: str | None = None
    description: str | None = None
    category: int | None = None
    price: Decimal | None = None
    discount_type: DiscountType | None = None
    discount_value: Decimal | None = None
    discount_starts_at: datetime | None = None
    discount_ends_at: datetime | None = None
    image_url: str | None = None
    is_active: bool | None = None


class ProductFilter(DTO):
    search: str = ""
    category: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    ordering: ProductOrdering | None = None
    include_inactive: bool = False


class ProductDeletion(DTO):
    """A product that was ever ordered is deactivated rather than deleted, so order history stays whole."""

    deleted: bool
    deactivated: bool


class StockLine(DTO):
    """A quantity of one product: what checkout prices and then reserves, the same line for both calls."""

    product_id: int
    quantity: int = Field(ge=1)


STOCK_REASON_MAX_LENGTH = 255


class StockActor(DTO):
    """Who changed stock, as the audit trail records it: the users context's id and the e-mail it had then."""

    id: int
    email: str = ""


class PricedLine(DTO):
    """A stock line with what an order copies from the catalog at checkout: sku, name and today's effective price."""

    product_id: int
    sku: str
    name: str
    unit_price: Money
    quantity: int


class ProductsService(Service):
    service_name = "products"
    local_implementation = "apps.products.rpc.LocalProductsService"

    # --- categories ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def category_list(self, *, page: int = 1, page_size: int = 20) -> Page[CategoryDTO]: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def category_get(self, *, category_id: int) -> CategoryDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def category_create(self, *, category: CategoryInput) -> CategoryDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def category_update(self, *, category_id: int, changes: CategoryChanges) -> CategoryDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def category_delete(self, *, category_id: int) -> None: ...

    # --- products ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def product_list(self, *, filters: ProductFilter, page: int = 1, page_size: int = 20) -> ProductPage: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_get(self, *, product_id: int, include_inactive: bool = False) -> ProductDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_get_many(self, *, product_ids: list[int]) -> list[ProductDTO]:
        """Products by id, in the order asked for, inactive ones included, unknown ids left out: one read for
        everything a cart shows (names, prices, availability)."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_stock_levels(self, *, product_ids: list[int]) -> list[StockLevel]:
        """Stock and last change time of the products asked for (unknown ids left out); one cheap query, so a
        cached page of products can be brought up to date after sales without reading the page again."""

    @rpc_method(idempotent=False)
    @abstractmethod
    def product_create(self, *, product: ProductInput, actor: StockActor | None = None) -> ProductDTO:
        """``product.stock`` is the initial quantity on hand, audited as received by ``actor``."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_bulk_create(self, *, products: list[ProductInput]) -> int:
        """Insert many products at once (seeding, imports); skus that exist already are left as they are.
        Returns how many were inserted."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_replace(self, *, product_id: int, product: ProductInput) -> ProductDTO:
        """Full update (PUT). ``product.stock`` is ignored: stock changes only through the stock calls."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_update(self, *, product_id: int, changes: ProductChanges) -> ProductDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_delete(self, *, product_id: int) -> ProductDeletion: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def product_stock_adjust(self, *, product_id: int, delta: int, reason: str = "",
                             actor: StockActor | None = None) -> ProductDTO:
        """Receive (positive) or write off (negative) stock; never below what open orders have reserved. The change
        is audited with ``reason`` (at most 255 characters) and ``actor``."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def product_lines_price(self, *, lines: list[StockLine]) -> list[PricedLine]:
        """Price lines for an order: sku, name and today's effective price, one line per product (quantities of a
        product asked twice are added), by product id. A product unknown or no longer sold cannot be ordered:
        InsufficientStock naming every such line with nothing available."""

    # --- reservations, keyed by order id; each call is idempotent ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def stock_reserve(self, *, order_id: UUID, lines: list[StockLine], replaces_order_id: UUID | None = None) -> None:
        """All or nothing: if any line is short, reserve nothing and raise InsufficientStock naming the lines.
        ``replaces_order_id``: the order id of a dead checkout with the same idempotency key; its reservation is
        released first, in the same transaction, so its units are there for this one."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def stock_reservation_confirm(self, *, order_id: UUID) -> None:
        """The order holding this reservation is durable. Unconfirmed reservations expire on their own after a few
        minutes, so a checkout that died between reserving and writing its order cannot hold stock for ever."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def stock_release(self, *, order_id: UUID) -> None:
        """Return a reservation that was not committed to stock; a no-op if there is none."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def stock_commit(self, *, order_id: UUID) -> None:
        """The goods left the warehouse: reserved quantity leaves stock on hand for good."""


products_service: ProductsService = ServiceDelegator(ProductsService)  # type: ignore[assignment]
