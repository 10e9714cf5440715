"""Reads of the products context. A page costs a constant number of queries whatever its size: the page itself, plus
its count unless a count for the same filters is cached under the current catalog versions (a count scans every
matching row, and deep pages or popular searches would pay it again and again), plus one over the category tree when
filtering by category. A count that is not cached is taken with the page where that saves reading the matches twice
(see _counted). Filtering and ordering by effective price happen in the database. On PostgreSQL, search
matches the stored search document (a GIN-indexed tsvector) and, only when nothing matches, falls back to trigram
similarity of names so that a typo still finds something; other databases use a plain substring match."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField, TrigramWordSimilarity
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Expression

from apps.products.models import SEARCH_CONFIG, SEARCH_DOCUMENT_COLUMN, Category, Product
from apps.products.pricing import effective_price_candidates, effective_price_expression
from ecommerce import cache_versions
from ecommerce.after_response import after_response
from ecommerce.contracts.products import CATALOG_VERSION, STOCK_VERSION, ProductFilter, ProductOrdering, StockLine
from ecommerce.errors import InsufficientStock, NotFound, ValidationFailed
from ecommerce.paging import page_window, paginate

logger = logging.getLogger(__name__)
T = TypeVar("T")

# From this many rows in, a page is found by its ids first (see product_page).
DEEP_PAGE_OFFSET = 500
# Past this position no catalog has products, and SQL's OFFSET (a bigint) cannot even be asked for it.
LAST_POSITION = 2**63 - 1
# A cached count or boundary lives at most this long even if no version changed (a lost bump heals by itself).
COUNT_CACHE_SECONDS = 300

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


def category_tree() -> list[tuple[int, int]]:
    """(category id, depth) of every category, depth first with siblings by name: the order a tree is drawn in.
    One query over the (small) category table."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for category_id, parent_id in Category.objects.order_by("name", "id").values_list("id", "parent_id"):
        children[parent_id].append(category_id)
    tree: list[tuple[int, int]] = []
    pending = [(category_id, 0) for category_id in reversed(children[None])]
    while pending:
        category_id, depth = pending.pop()
        tree.append((category_id, depth))
        pending.extend((child_id, depth + 1) for child_id in reversed(children.get(category_id, ())))
    return tree


# --- products -------------------------------------------------------------------------------------------------------

class _StoredSearchDocument(Expression):
    """The products table's search document column, which only PostgreSQL has (it is not a model field)."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        return f"{quote(Product._meta.db_table)}.{quote(SEARCH_DOCUMENT_COLUMN)}", []


def _search(products: QuerySet[Product], term: str, *, rank: bool, typo_fallback: bool) -> QuerySet[Product]:
    if connection.vendor != "postgresql":
        return products.filter(Q(name__icontains=term) | Q(sku__icontains=term) | Q(description__icontains=term))
    if typo_fallback:
        products = products.filter(name__trigram_word_similar=term)
        if rank:
            products = products.annotate(name_similarity=TrigramWordSimilarity(term, "name")).order_by(
                "-name_similarity", *DEFAULT_ORDERING)
        return products
    query = SearchQuery(term, search_type="websearch", config=SEARCH_CONFIG)
    products = products.annotate(search_document=_StoredSearchDocument()).filter(search_document=query)
    if rank:
        products = products.annotate(search_rank=SearchRank(F("search_document"), query)).order_by(
            "-search_rank", *DEFAULT_ORDERING)
    return products


def products_similar_to(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """``products`` whose name nearly matches ``term``: the typo fallback of the catalog search, for callers (the
    admin's search) that found nothing by exact words."""
    return _search(products, term.strip(), rank=False, typo_fallback=True)


def prices_matter(filters: ProductFilter) -> bool:
    """Whether the rows of the answer (not only the prices shown) depend on effective prices."""
    return (filters.min_price is not None or filters.max_price is not None
            or filters.ordering in {ProductOrdering.PRICE, ProductOrdering.PRICE_DESC})


def product_queryset(*, filters: ProductFilter, now: datetime, typo_fallback: bool = False) -> QuerySet[Product]:
    products = Product.objects.all()
    if not filters.include_inactive:
        products = products.filter(is_active=True)
    if filters.category is not None:
        products = products.filter(category_id__in=category_subtree_ids(category_id=filters.category))
    if filters.in_stock is True:
        products = products.filter(stock_on_hand__gt=F("stock_reserved"))
    elif filters.in_stock is False:
        products = products.filter(stock_on_hand__lte=F("stock_reserved"))
    if prices_matter(filters):
        products = products.annotate(effective_price_sql=effective_price_expression(now))
        if filters.min_price is not None:
            products = products.filter(effective_price_sql__gte=filters.min_price)
        if filters.max_price is not None:
            products = products.filter(effective_price_sql__lte=filters.max_price)
    products = products.order_by(*_ORDERINGS.get(filters.ordering, DEFAULT_ORDERING))  # type: ignore[arg-type]
    term = filters.search.strip()
    if term:
        products = _search(products, term, rank=filters.ordering is None, typo_fallback=typo_fallback)
    return products


def _versions_for(filters: ProductFilter) -> tuple[str, ...]:
    return (CATALOG_VERSION, STOCK_VERSION) if filters.in_stock is not None else (CATALOG_VERSION,)


def _timeout(valid_until: datetime | None, now: datetime) -> int:
    if valid_until is None:
        return COUNT_CACHE_SECONDS
    return max(1, min(COUNT_CACHE_SECONDS, int((valid_until - now).total_seconds())))


def _cached(key: str, names: tuple[str, ...], now: datetime,
            compute: Callable[[], tuple[T, datetime | None]]) -> T:
    """The value ``compute()`` returns with the instant it stops being true (or None), cached under the current
    versions of ``names`` until then. The versions are read before computing (in the round trip that reads the
    entry), so a change that lands meanwhile invalidates the entry. A cache that does not answer is skipped."""
    try:
        found = cache.get_many([*(cache_versions.version_key(name) for name in names), key])
        versions = cache_versions.current(found, names)
        entry = found.get(key)
    except Exception:  # a cache outage costs a query, never the answer
        logger.warning("products cache unavailable", exc_info=True)
        return compute()[0]
    if entry is not None and entry[0] == versions and (entry[2] is None or now < entry[2]):
        return entry[1]
    value, valid_until = compute()

    def store() -> None:  # once the answer is sent: the versions read above keep it safe
        try:
            cache.set(key, (versions, value, valid_until), timeout=_timeout(valid_until, now))
        except Exception:  # see above
            logger.warning("products cache unavailable", exc_info=True)

    after_response(store)
    return value


def _cached_count(*, filters: ProductFilter, variant: str, valid_until: datetime | None, now: datetime,
                  count: Callable[[], int]) -> int:
    key = "products:count:" + hashlib.sha256(f"{variant}|{filters.model_dump_json()}".encode()).hexdigest()
    return _cached(key, _versions_for(filters), now, lambda: (count(), valid_until))


def next_price_change(*, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which any product's effective price changes by itself (a discount window
    opens or closes); cached under the catalog version, two index lookups when not."""
    def compute() -> tuple[datetime | None, datetime | None]:
        boundary = _next_price_change(now)
        return boundary, boundary

    return _cached("products:next-price-change", (CATALOG_VERSION,), now, compute)


def _next_price_change(now: datetime) -> datetime | None:
    discounted = Product.objects.exclude(discount_type="none")
    starts = (discounted.filter(discount_starts_at__gt=now).order_by("discount_starts_at")
              .values_list("discount_starts_at", flat=True).first())
    ends = (discounted.filter(discount_ends_at__gt=now).order_by("discount_ends_at")
            .values_list("discount_ends_at", flat=True).first())
    return min((at for at in (starts, ends) if at is not None), default=None)


def _visits_every_match(filters: ProductFilter) -> bool:
    """Whether a page must visit every matching row before it knows its first one: a search (its matches come from
    the search index, then get ranked and sorted) or an order no index gives. Only the default order, newest first,
    is read off an index, stopping at the page."""
    return bool(filters.search.strip()) or filters.ordering not in {None, ProductOrdering.CREATED_AT_DESC}


def _candidates_only(queryset: QuerySet[Product], filters: ProductFilter) -> QuerySet[Product]:
    """The same rows, for counting. With price bounds, a condition on the stored price lets the count read only the
    candidates off an index. Only the count gets it: for a page read newest first, the planner cannot tell how many
    rows the effective price lets through and would give up walking the order index, which stops at the page."""
    if filters.min_price is None and filters.max_price is None:
        return queryset
    return queryset.filter(effective_price_candidates(min_price=filters.min_price, max_price=filters.max_price))


def _count_and_page_ids(queryset: QuerySet[Product], window: slice) -> tuple[int, list[int]]:
    """The number of matches and the ids of the page, in one statement that reads and ranks the matches once
    (PostgreSQL). For a read that visits every match anyway, counting them apart would read them all twice."""
    ordering = [str(name) for name in queryset.query.order_by]
    keys = [name.lstrip("-") for name in ordering if name.lstrip("-") != "id"]
    try:
        sql, params = queryset.order_by().values_list("id", *keys).query.sql_with_params()
    except EmptyResultSet:  # a filter that nothing can meet (a category that does not exist)
        return 0, []
    columns = ", ".join(f"key_{index}" for index in range(len(keys)))
    sort = ", ".join(("id" if name.lstrip("-") == "id" else f"key_{keys.index(name.lstrip('-'))}")
                     + (" DESC" if name.startswith("-") else " ASC") for name in ordering)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH matches (id, {columns}) AS MATERIALIZED ({sql}) "  # noqa: S608 - compiled by the ORM
                       f"SELECT (SELECT count(*) FROM matches), "
                       f"ARRAY(SELECT id FROM matches ORDER BY {sort} LIMIT %s OFFSET %s)",
                       [*params, window.stop - window.start, window.start])
        count, ids = cursor.fetchone()
    return count, ids


def _count_from(queryset: QuerySet[Product], product: dict[str, object]) -> int:
    """How many of ``queryset`` are listed at or after ``product`` in the default order (newest first, then by id):
    those older, and those of the same instant from its id on. Each is one range of the order index; a single
    condition with an OR would be checked on every row of the range, at twice or thrice the cost."""
    return (queryset.filter(created_at__lt=product["created_at"]).count()
            + queryset.filter(created_at=product["created_at"], id__gte=product["id"]).count())


def _counted(queryset: QuerySet[Product], *, filters: ProductFilter, window: slice, variant: str,
             valid_until: datetime | None, now: datetime) -> tuple[int, list[int] | None]:
    """The number of matches (cached under the catalog versions), and the ids of the page when counting them read
    those anyway (None when the count was cached or the page is read apart). A read that visits every match counts
    and pages in one statement. A deep page in the default order finds its first product off the order index, and
    the count is its position plus the products from it on: one pass over the matches instead of one and a half."""
    page_ids: list[int] | None = None

    def count() -> int:
        nonlocal page_ids
        with_page = window.stop <= LAST_POSITION  # else far past the end of any catalog: only the count is read
        if with_page and _visits_every_match(filters) and connection.vendor == "postgresql":
            total, page_ids = _count_and_page_ids(_candidates_only(queryset, filters), window)
            return total
        if with_page and not _visits_every_match(filters) and window.start >= DEEP_PAGE_OFFSET:
            page = list(queryset.values("id", "created_at")[window])
            if page:
                page_ids = [product["id"] for product in page]
                return window.start + _count_from(_candidates_only(queryset, filters), page[0])
        return _candidates_only(queryset, filters).count()

    total = _cached_count(filters=filters, variant=variant, valid_until=valid_until, now=now, count=count)
    return total, page_ids


def product_page(*, filters: ProductFilter, page: int, page_size: int, now: datetime) -> tuple[int, list[Product]]:
    if filters.min_price is not None and filters.max_price is not None and filters.min_price > filters.max_price:
        raise ValidationFailed(errors={"min_price": ["Must not be greater than max_price."]})
    window = page_window(page=page, page_size=page_size)
    valid_until = next_price_change(now=now) if prices_matter(filters) else None
    queryset = product_queryset(filters=filters, now=now)
    count, ids = _counted(queryset, filters=filters, window=window, variant="match", valid_until=valid_until, now=now)
    if count == 0 and filters.search.strip() and connection.vendor == "postgresql":
        # Nothing contains the words: perhaps a typo. Names that are nearly the term are the answer then.
        queryset = product_queryset(filters=filters, now=now, typo_fallback=True)
        count, ids = _counted(queryset, filters=filters, window=window, variant="similar", valid_until=valid_until,
                              now=now)
    if window.start >= count:
        return count, []
    if ids is None:
        if window.start < DEEP_PAGE_OFFSET and not _visits_every_match(filters):
            return count, list(queryset[window])
        # Find the page's ids first, then read only those rows. A deep page's ids come from an index alone instead
        # of every full row before the page; a search or an unindexed order sorts every match, and sorting ids (with
        # their sort keys) instead of full rows and search documents costs a fraction (a third for a common word).
        ids = list(queryset.values_list("id", flat=True)[window])
    rows = Product.objects.in_bulk(ids)
    return count, [rows[product_id] for product_id in ids if product_id in rows]


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


def product_stock_levels(*, product_ids: list[int]) -> list[tuple[int, int, datetime]]:
    """(id, available stock, updated_at) of each known product asked for; one query on the primary key."""
    rows = Product.objects.filter(pk__in=list(dict.fromkeys(product_ids))).values_list(
        "id", "stock_on_hand", "stock_reserved", "updated_at")
    return [(product_id, max(on_hand - reserved, 0), updated_at) for product_id, on_hand, reserved, updated_at in rows]
