"""The in-process implementation of ``ProductsService``: a thin adapter from the contract to services and selectors
that turns models into DTOs. Models never leave this module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from apps.products import selectors, services
from apps.products.models import Category, Product
from apps.products.pricing import effective_price
from ecommerce.contracts.common import Page
from ecommerce.contracts.products import (
    CategoryChanges,
    CategoryDTO,
    CategoryInput,
    DiscountType,
    PricedLine,
    ProductChanges,
    ProductDeletion,
    ProductDTO,
    ProductFilter,
    ProductInput,
    ProductPage,
    ProductsService,
    StockActor,
    StockLevel,
    StockLine,
)
from ecommerce.money import to_money


def category_dto(category: Category) -> CategoryDTO:
    return CategoryDTO(id=category.pk, name=category.name, slug=category.slug, description=category.description,
                       parent=category.parent_id)


def product_effective_price(product: Product, *, now: datetime) -> Decimal:
    return effective_price(
        price=product.price, discount_type=product.discount_type, discount_value=product.discount_value,
        starts_at=product.discount_starts_at, ends_at=product.discount_ends_at, now=now,
    )


def product_dto(product: Product, *, now: datetime | None = None) -> ProductDTO:
    now = now or timezone.now()
    return ProductDTO(
        id=product.pk,
        sku=product.sku,
        name=product.name,
        slug=product.slug,
        short_description=product.short_description,
        description=product.description,
        category=product.category_id,
        price=to_money(product.price),
        discount_type=DiscountType(product.discount_type),
        discount_value=to_money(product.discount_value),
        discount_starts_at=product.discount_starts_at,
        discount_ends_at=product.discount_ends_at,
        effective_price=product_effective_price(product, now=now),
        image_url=product.image_url,
        stock=max(product.stock_available, 0),
        is_active=product.is_active,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


class LocalProductsService(ProductsService):
    # --- categories ---
    def category_list(self, *, page: int = 1, page_size: int = 20) -> Page[CategoryDTO]:
        count, categories = selectors.category_page(page=page, page_size=page_size)
        return Page[CategoryDTO](count=count, results=[category_dto(c) for c in categories])

    def category_get(self, *, category_id: int) -> CategoryDTO:
        return category_dto(selectors.category_get(category_id=category_id))

    def category_create(self, *, category: CategoryInput) -> CategoryDTO:
        return category_dto(services.category_create(category=category))

    def category_update(self, *, category_id: int, changes: CategoryChanges) -> CategoryDTO:
        return category_dto(services.category_update(category_id=category_id, changes=changes))

    def category_delete(self, *, category_id: int) -> None:
        services.category_delete(category_id=category_id)

    # --- products ---
    def product_list(self, *, filters: ProductFilter, page: int = 1, page_size: int = 20) -> ProductPage:
        now = timezone.now()
        count, products = selectors.product_page(filters=filters, page=page, page_size=page_size, now=now)
        results = [product_dto(p, now=now) for p in products]
        # The answer changes by itself when a listed price changes, or any price when prices pick the rows.
        boundaries = [dto.next_price_change(now) for dto in results]
        if selectors.prices_matter(filters):
            boundaries.append(selectors.next_price_change(now=now))
        valid_until = min((at for at in boundaries if at is not None), default=None)
        return ProductPage(count=count, results=results, valid_until=valid_until)

    def product_get(self, *, product_id: int, include_inactive: bool = False) -> ProductDTO:
        return product_dto(selectors.product_get(product_id=product_id, include_inactive=include_inactive))

    def product_get_many(self, *, product_ids: list[int]) -> list[ProductDTO]:
        now = timezone.now()
        return [product_dto(p, now=now) for p in selectors.product_get_many(product_ids=product_ids)]

    def product_stock_levels(self, *, product_ids: list[int]) -> list[StockLevel]:
        return [StockLevel(product_id=product_id, stock=stock, updated_at=updated_at)
                for product_id, stock, updated_at in selectors.product_stock_levels(product_ids=product_ids)]

    def product_create(self, *, product: ProductInput, actor: StockActor | None = None) -> ProductDTO:
        return product_dto(services.product_create(product=product, actor=actor))

    def product_bulk_create(self, *, products: list[ProductInput]) -> int:
        return services.product_bulk_create(products=products)

    def product_replace(self, *, product_id: int, product: ProductInput) -> ProductDTO:
        return product_dto(services.product_replace(product_id=product_id, product=product))

    def product_update(self, *, product_id: int, changes: ProductChanges) -> ProductDTO:
        return product_dto(services.product_update(product_id=product_id, changes=changes))

    def product_delete(self, *, product_id: int) -> ProductDeletion:
        deactivated = services.product_delete(product_id=product_id)
        return ProductDeletion(deleted=not deactivated, deactivated=deactivated)

    def product_stock_adjust(self, *, product_id: int, delta: int, reason: str = "",
                             actor: StockActor | None = None) -> ProductDTO:
        return product_dto(services.product_stock_adjust(product_id=product_id, delta=delta, reason=reason,
                                                         actor=actor))

    def product_lines_price(self, *, lines: list[StockLine]) -> list[PricedLine]:
        now = timezone.now()
        return [
            PricedLine(product_id=product.pk, sku=product.sku, name=product.name,
                       unit_price=product_effective_price(product, now=now), quantity=quantity)
            for product, quantity in selectors.products_to_order(lines=lines)
        ]

    # --- reservations ---
    def stock_reserve(self, *, order_id: UUID, lines: list[StockLine], replaces_order_id: UUID | None = None) -> None:
        services.stock_reserve(order_id=order_id, lines=lines, replaces_order_id=replaces_order_id)

    def stock_reservation_confirm(self, *, order_id: UUID) -> None:
        services.stock_reservation_confirm(order_id=order_id)

    def stock_release(self, *, order_id: UUID) -> None:
        services.stock_release(order_id=order_id)

    def stock_commit(self, *, order_id: UUID) -> None:
        services.stock_commit(order_id=order_id)
