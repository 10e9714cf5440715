"""Reads of the products context. A page costs a constant number of queries whatever its size: one count and one
page (plus one over the category tree when filtering by category); filtering and ordering by effective price happen
in the database. Search uses PostgreSQL full-text search with a trigram fallback for typos, and a plain substring
match on other databases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import F, Q, QuerySet

from apps.products.models import PRODUCT_SEARCH_VECTOR, SEARCH_CONFIG, Category, Product
from apps.products.pricing import effective_price_expression
from ecommerce.contracts.products import ProductFilter, ProductOrdering, StockLine
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed
from ecommerce.paging import paginate

_ORDERINGS: dict[ProductOrdering, tuple[str, ...]] = {
    ProductOrdering.PRICE: ("effective_price_sql", "id"),
    ProductOrdering.PRICE_DESC: ("-effective_price_sql", "id"),
    ProductOrdering.NAME: ("name", "id"),
    ProductOrdering.NAME_DESC: ("-name", "id"),
    ProductOrdering.CREATED_AT: ("created_at", "id"),
    ProductOrdering.CREATED_AT_DESC: ("-created_at", "id"),
}
DEFAULT_ORDERING = ("-created_at", "id")


# --- categories -----------------------------------------------------------------------------------------------------

def category_page(*, page: int, page_size: int) -> tuple[int, list[Category]]:
    return paginate(Category.objects.order_by("name", "id"), page=page, page_size=page_size)


def category_get(*, category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(f"Category {category_id} does not exist.")
    return category


def category_subtree_ids(*, category_id: int) -> set[int]:
    """The category and all its descendants, from one query over the (small) category table."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for child_id, parent_id in Category.objects.values_list("id", "parent_id"):
        children[parent_id].append(child_id)
    known = {child for siblings in children.values() for child in siblings}
    if category_id not in known:
        return set()
    subtree, pending = set(), [category_id]
    while pending:
        current = pending.pop()
        if current not in subtree:
            subtree.add(current)
            pending.extend(children.get(current, ()))
    return subtree


# --- products -------------------------------------------------------------------------------------------------------

def _search(products: QuerySet[Product], term: str, *, rank: bool) -> QuerySet[Product]:
    if connection.vendor != "postgresql":
        return products.filter(Q(name__icontains=term) | Q(sku__icontains=term) | Q(description__icontains=term))
    query = SearchQuery(term, search_type="websearch", config=SEARCH_CONFIG)
    # Full-text match over name, sku and description, or a name that is nearly the term (a typo).
    products = products.annotate(search_vector=PRODUCT_SEARCH_VECTOR).filter(
        Q(search_vector=query) | Q(name__trigram_word_similar=term)
    )
    if rank:
        products = products.annotate(
            search_rank=SearchRank(F("search_vector"), query),
            name_similarity=TrigramWordSimilarity(term, "name"),
        ).order_by("-search_rank", "-name_similarity", *DEFAULT_ORDERING)
    return products


def product_queryset(*, filters: ProductFilter, now: datetime) -> QuerySet[Product]:
    products = Product.objects.all()
    if not filters.include_inactive:
        products = products.filter(is_active=True)
    if filters.category is not None:
        products = products.filter(category_id__in=category_subtree_ids(category_id=filters.category))
    if filters.in_stock is True:
        products = products.filter(stock_on_hand__gt=F("stock_reserved"))
    elif filters.in_stock is False:
        products = products.filter(stock_on_hand__lte=F("stock_reserved"))
    price_needed = (
        filters.min_price is not None or filters.max_price is not None
        or filters.ordering in {ProductOrdering.PRICE, ProductOrdering.PRICE_DESC}
    )
    if price_needed:
        products = products.annotate(effective_price_sql=effective_price_expression(now))
        if filters.min_price is not None:
            products = products.filter(effective_price_sql__gte=filters.min_price)
        if filters.max_price is not None:
            products = products.filter(effective_price_sql__lte=filters.max_price)
    products = products.order_by(*_ORDERINGS.get(filters.ordering, DEFAULT_ORDERING))  # type: ignore[arg-type]
    term = filters.search.strip()
    if term:
        products = _search(products, term, rank=filters.ordering is None)
    return products


def product_page(*, filters: ProductFilter, page: int, page_size: int, now: datetime) -> tuple[int, list[Product]]:
    if filters.min_price is not None and filters.max_price is not None and filters.min_price > filters.max_price:
        raise ValidationFailed(errors={"min_price": ["Must not be greater than max_price."]})
    return paginate(product_queryset(filters=filters, now=now), page=page, page_size=page_size)


def product_get(*, product_id: int, include_inactive: bool = False) -> Product:
    products = Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)
    product = products.filter(pk=product_id).first()
    if product is None:
        raise NotFound(f"Product {product_id} does not exist.")
    return product


def product_get_many(*, product_ids: list[int]) -> list[Product]:
    """Products in the order asked for, inactive ones included, unknown ids left out; one query."""
    wanted = list(dict.fromkeys(product_ids))
    found = Product.objects.in_bulk(wanted)
    return [found[product_id] for product_id in wanted if product_id in found]


# --- lines of an order ----------------------------------------------------------------------------------------------

# What pricing an order line reads: never the descriptions, which may be long.
PRICING_FIELDS = ("id", "sku", "name", "price", "discount_type", "discount_value", "discount_starts_at",
                  "discount_ends_at", "is_active")

def quantities_by_product(lines: Iterable[StockLine]) -> dict[int, int]:
    """One quantity per product, lines of the same product added up, in ascending product id: the one order in which
    stock rows are locked and order lines are written."""
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        wanted[line.product_id] += line.quantity
    return dict(sorted(wanted.items()))


def unsellable_lines(wanted: dict[int, int], products: dict[int, Product]) -> list[dict[str, int]]:
    """Lines of products that are unknown or no longer sold, in the shape InsufficientStock names lines."""
    return [
        {"product_id": product_id, "requested": quantity, "available": 0}
        for product_id, quantity in wanted.items()
        if product_id not in products or not products[product_id].is_active
    ]


def products_to_order(*, lines: Iterable[StockLine]) -> list[tuple[Product, int]]:
    """The products an order would buy with the quantity of each, by product id, read in one query. Stock is not
    checked here (the reservation does that under lock); a product unknown or no longer sold cannot be ordered at
    all: InsufficientStock naming every such line."""
    wanted = quantities_by_product(lines)
    products = Product.objects.only(*PRICING_FIELDS).in_bulk(list(wanted))
    unsellable = unsellable_lines(wanted, products)
    if unsellable:
        raise InsufficientStock(f"{len(unsellable)} product(s) in the order are no longer sold.", lines=unsellable)
    return [(products[product_id], quantity) for product_id, quantity in wanted.items()]
