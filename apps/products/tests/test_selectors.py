"""Reads: product list filters, search on both backends, ordering by effective price, and constant query counts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Index, Q
from django.utils import timezone

from apps.products import selectors, services
from apps.products.invalidation import catalog_changed
from apps.products.models import DISCOUNTING_TYPES, POSTGRES_ONLY_INDEX_NAMES, SALE_PRICE_INDEX, Product
from apps.products.pricing import sale_price_expression
from apps.products.rpc import product_effective_price
from ecommerce.contracts.products import ProductFilter, StockLine
from ecommerce.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def listed(**filters) -> list[str]:
    _, products = selectors.product_page(filters=ProductFilter(**filters), page=1, page_size=100, now=timezone.now())
    return [p.sku for p in products]


def test_default_listing_is_newest_first_and_hides_inactive(make_product):
    make_product(sku="OLD")
    make_product(sku="HIDDEN", is_active=False)
    make_product(sku="NEW")
    assert listed() == ["NEW", "OLD"]
    assert listed(include_inactive=True) == ["NEW", "HIDDEN", "OLD"]


def test_category_filter_includes_all_sub_categories(make_category, make_product):
    home = make_category("Home")
    lighting = make_category("Lighting", parent=home)
    lamps = make_category("Lamps", parent=lighting)
    garden = make_category("Garden")
    make_product(sku="IN-HOME", category=home)
    make_product(sku="IN-LAMPS", category=lamps)
    make_product(sku="IN-GARDEN", category=garden)
    make_product(sku="NO-CATEGORY")
    assert sorted(listed(category=home.pk)) == ["IN-HOME", "IN-LAMPS"]
    assert listed(category=lighting.pk) == ["IN-LAMPS"]
    assert listed(category=999_999) == []
    for unknown_category in (ProductFilter(category=999_999, search="lamp"), ProductFilter(category=999_999,
                                                                                           ordering="price")):
        catalog_changed()
        assert selectors.product_page(filters=unknown_category, page=1, page_size=5, now=timezone.now()) == (0, [])


def test_subtree_is_read_with_one_query(make_category, django_assert_num_queries):
    root = make_category()
    child = make_category(parent=root)
    grandchild = make_category(parent=child)
    make_category()
    with django_assert_num_queries(1):
        assert selectors.category_subtree_ids(category_id=root.pk) == {root.pk, child.pk, grandchild.pk}


def test_price_filters_use_the_effective_price(make_product):
    now = timezone.now()
    make_product(sku="PLAIN-20", price="20.00")
    make_product(sku="SALE-50-TO-15", price="50.00", discount_type="percent", discount_value=Decimal("70"))
    make_product(sku="EXPIRED-SALE-30", price="30.00", discount_type="fixed", discount_value=Decimal("25"),
                 discount_ends_at=now - timedelta(days=1))
    make_product(sku="FUTURE-SALE-8", price="8.00", discount_type="fixed", discount_value=Decimal("5"),
                 discount_starts_at=now + timedelta(days=1))
    assert sorted(listed(min_price=Decimal("10"), max_price=Decimal("20"))) == ["PLAIN-20", "SALE-50-TO-15"]
    assert listed(min_price=Decimal("25")) == ["EXPIRED-SALE-30"]
    assert listed(max_price=Decimal("8.00")) == ["FUTURE-SALE-8"]
    assert listed(min_price=Decimal("15.00"), max_price=Decimal("15.00")) == ["SALE-50-TO-15"]


def test_a_price_range_counts_exactly_the_products_it_lists(make_product):
    # given products at, around and far from the bounds, with every kind of discount, in and out of its window
    now = timezone.now()
    make_product(sku="PLAIN-10", price="10.00")
    make_product(sku="PLAIN-20", price="20.00")
    make_product(sku="PLAIN-90", price="90.00")
    make_product(sku="HALF-OFF-40", price="40.00", discount_type="percent", discount_value=Decimal("50"))
    make_product(sku="FREE-90", price="90.00", discount_type="percent", discount_value=Decimal("100"))
    make_product(sku="MINUS-80-FROM-95", price="95.00", discount_type="fixed", discount_value=Decimal("80"))
    make_product(sku="MINUS-5-FROM-5", price="5.00", discount_type="fixed", discount_value=Decimal("5"))
    make_product(sku="ENDED-70-OFF-30", price="30.00", discount_type="percent", discount_value=Decimal("70"),
                 discount_ends_at=now - timedelta(days=1))
    make_product(sku="LATER-50-OFF-60", price="60.00", discount_type="fixed", discount_value=Decimal("50"),
                 discount_starts_at=now + timedelta(days=1))
    make_product(sku="HIDDEN-15", price="15.00", is_active=False)
    on_sale = list(Product.objects.filter(is_active=True))
    for bounds in ({"min_price": Decimal("10"), "max_price": Decimal("20")}, {"min_price": Decimal("15")},
                   {"max_price": Decimal("15")}, {"min_price": Decimal("0"), "max_price": Decimal("0")},
                   {"min_price": Decimal("20"), "max_price": Decimal("60")},
                   {"min_price": Decimal("30"), "max_price": Decimal("30")}):
        low, high = bounds.get("min_price", Decimal("0")), bounds.get("max_price", Decimal("1000000"))
        expected = {product.sku for product in on_sale if low <= product_effective_price(product, now=now) <= high}
        catalog_changed()  # counted afresh, not from the cache
        # when the range is counted and listed
        count, products = selectors.product_page(filters=ProductFilter(**bounds), page=1, page_size=100, now=now)
        # then both are exactly the products whose effective price lies in the range
        assert {product.sku for product in products} == expected, bounds
        assert count == len(expected), bounds
    assert sorted(listed(min_price=Decimal("10"), max_price=Decimal("20"))) == [
        "HALF-OFF-40", "MINUS-80-FROM-95", "PLAIN-10", "PLAIN-20"]
    assert sorted(listed(max_price=Decimal("0"))) == ["FREE-90", "MINUS-5-FROM-5"]


@pytest.mark.postgres
def test_the_sale_price_index_spells_the_sale_price_as_pricing_does():
    # given an index built now from pricing's own expression, with the same condition
    check = Index(sale_price_expression(), name="products_sale_price_check",
                  condition=Q(is_active=True, discount_type__in=DISCOUNTING_TYPES))
    with connection.schema_editor() as editor:
        editor.add_index(Product, check)
    # when both definitions are read back from the database
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN (%s, %s)",
                       [SALE_PRICE_INDEX, check.name])
        definitions = {name: definition.replace(name, "") for name, definition in cursor.fetchall()}
    # then they are the same, so a price range that filters on the sale price can be read off the migration's index
    assert definitions[SALE_PRICE_INDEX] == definitions[check.name]


def test_a_price_range_finds_discounted_products_by_their_sale_price(make_product):
    now = timezone.now()
    make_product(sku="HALF-OFF-40", price="40.00", discount_type="percent", discount_value=Decimal("50"))
    make_product(sku="MINUS-5-FROM-30", price="30.00", discount_type="fixed", discount_value=Decimal("5"))
    make_product(sku="LATER-HALF-OFF-44", price="44.00", discount_type="percent", discount_value=Decimal("50"),
                 discount_starts_at=now + timedelta(days=1))
    count, products = selectors.product_page(filters=ProductFilter(min_price=Decimal("20"), max_price=Decimal("25")),
                                             page=1, page_size=10, now=now)
    assert count == 2
    assert sorted(product.sku for product in products) == ["HALF-OFF-40", "MINUS-5-FROM-30"]


def test_min_price_above_max_price_is_invalid():
    with pytest.raises(ValidationFailed) as error:
        listed(min_price=Decimal("10"), max_price=Decimal("5"))
    assert "min_price" in error.value.errors


def test_ordering_by_price_uses_the_effective_price(make_product):
    make_product(sku="B-30", name="Bravo", price="30.00")
    make_product(sku="A-100-SALE", name="Alpha", price="100.00", discount_type="fixed", discount_value=Decimal("90"))
    make_product(sku="C-20", name="Charlie", price="20.00")
    assert listed(ordering="price") == ["A-100-SALE", "C-20", "B-30"]
    assert listed(ordering="-price") == ["B-30", "C-20", "A-100-SALE"]
    assert listed(ordering="name") == ["A-100-SALE", "B-30", "C-20"]
    assert listed(ordering="-name") == ["C-20", "B-30", "A-100-SALE"]
    assert listed(ordering="created_at") == ["B-30", "A-100-SALE", "C-20"]
    assert listed(ordering="-created_at") == ["C-20", "A-100-SALE", "B-30"]


def test_in_stock_means_something_left_after_reservations(make_product):
    make_product(sku="FULL", stock=3)
    make_product(sku="EMPTY", stock=0)
    reserved = make_product(sku="ALL-RESERVED", stock=2)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[StockLine(product_id=reserved.pk, quantity=2)])
    assert listed(in_stock=True) == ["FULL"]
    assert sorted(listed(in_stock=False)) == ["ALL-RESERVED", "EMPTY"]


def test_search_matches_name_sku_and_description(make_product):
    make_product("Wireless Headphones", sku="AUD-001")
    make_product("Desk Lamp", sku="LMP-7", description="Warm light for headphones users")
    make_product("Garden Hose", sku="GRD-HOSE-1")
    assert sorted(listed(search="headphones")) == ["AUD-001", "LMP-7"]
    assert listed(search="GRD-HOSE-1") == ["GRD-HOSE-1"]
    assert listed(search="  ") == ["GRD-HOSE-1", "LMP-7", "AUD-001"]


@pytest.mark.postgres
def test_search_tolerates_a_typo_on_postgresql(make_product):
    make_product("Wireless Headphones", sku="AUD-001")
    make_product("Garden Hose", sku="GRD-1")
    assert listed(search="hedphones") == ["AUD-001"]


@pytest.mark.postgres
def test_search_ranks_name_matches_above_description_matches(make_product):
    make_product("Lamp Shade", sku="SHADE", description="Fits the lamp")
    make_product("Desk Organizer", sku="ORG", description="Keeps the lamp cable tidy")
    make_product("Lamp", sku="LAMP", description="A lamp; the best lamp")
    # created last would come first without ranking; the description-only match must come last
    assert listed(search="lamp")[-1] == "ORG"
    assert set(listed(search="lamp")[:2]) == {"LAMP", "SHADE"}


@pytest.mark.postgres
def test_search_with_explicit_ordering_keeps_that_ordering(make_product):
    make_product("Lamp Alpha", sku="A", price="30.00")
    make_product("Lamp Beta", sku="B", price="10.00")
    assert listed(search="lamp", ordering="price") == ["B", "A"]


@pytest.mark.postgres
def test_search_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'products_product'")
        names = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)
    assert names >= POSTGRES_ONLY_INDEX_NAMES


def test_search_with_punctuation_is_safe(make_product):
    make_product("Lamp", sku="L1")
    assert listed(search='"lamp" OR -(foo & !bar):*') is not None


def test_page_query_count_does_not_grow_with_page_size(make_product, make_category, django_assert_num_queries):
    category = make_category()
    for _ in range(60):
        make_product(category=category, discount_type="percent", discount_value=Decimal("10"))
    by_price = ProductFilter(ordering="price", min_price=Decimal("1"))
    for page_size in (5, 50):
        # nothing cached: the catalog's next discount boundary (two lookups), the count and the page's ids (one
        # statement on PostgreSQL: an order by price visits every match anyway), then the page's rows
        catalog_changed()
        with django_assert_num_queries(4 if connection.vendor == "postgresql" else 5):
            selectors.product_page(filters=by_price, page=1, page_size=page_size, now=timezone.now())
        with django_assert_num_queries(3):  # count, page, the category tree
            count, products = selectors.product_page(filters=ProductFilter(category=category.pk),
                                                     page=1, page_size=page_size, now=timezone.now())
        assert (count, len(products)) == (60, page_size)


def test_a_count_is_cached_until_the_catalog_changes(make_product, django_assert_num_queries):
    # given a count that was read once
    make_product(sku="A")
    assert selectors.product_page(filters=ProductFilter(), page=1, page_size=5, now=timezone.now())[0] == 1
    # then the next page of the same filters costs only the page query
    with django_assert_num_queries(1):
        selectors.product_page(filters=ProductFilter(), page=1, page_size=5, now=timezone.now())
    # and a change of the catalog is counted again at once
    make_product(sku="B")
    with django_assert_num_queries(2):
        count, _ = selectors.product_page(filters=ProductFilter(), page=1, page_size=5, now=timezone.now())
    assert count == 2


def test_an_in_stock_count_follows_stock_changes(make_product):
    product = make_product(sku="A", stock=1)
    assert selectors.product_page(filters=ProductFilter(in_stock=True), page=1, page_size=5,
                                  now=timezone.now())[0] == 1
    services.product_stock_adjust(product_id=product.pk, delta=-1)
    assert selectors.product_page(filters=ProductFilter(in_stock=True), page=1, page_size=5,
                                  now=timezone.now())[0] == 0


def test_page_beyond_the_end_is_empty_and_bad_bounds_are_invalid(make_product):
    make_product()
    count, products = selectors.product_page(filters=ProductFilter(), page=5, page_size=10, now=timezone.now())
    assert (count, products) == (1, [])
    with pytest.raises(ValidationFailed):
        selectors.product_page(filters=ProductFilter(), page=0, page_size=10, now=timezone.now())


@pytest.mark.parametrize("filters", [ProductFilter(), ProductFilter(search="lamp"), ProductFilter(ordering="name")],
                         ids=["newest first", "search", "by name"])
def test_a_page_far_past_the_end_is_empty(make_product, filters):
    make_product("Desk lamp")
    for page in (10**6, 10**18, 10**30):
        catalog_changed()
        assert selectors.product_page(filters=filters, page=page, page_size=20, now=timezone.now()) == (1, [])


def test_get_hides_inactive_unless_asked(make_product):
    product = make_product(is_active=False)
    with pytest.raises(NotFound):
        selectors.product_get(product_id=product.pk)
    assert selectors.product_get(product_id=product.pk, include_inactive=True).pk == product.pk


def test_get_many_keeps_order_includes_inactive_and_skips_unknown(make_product, django_assert_num_queries):
    first, second = make_product(), make_product(is_active=False)
    with django_assert_num_queries(1):
        found = selectors.product_get_many(product_ids=[second.pk, 999_999, first.pk, second.pk])
    assert [p.pk for p in found] == [second.pk, first.pk]


def test_a_search_page_is_read_by_ids_first_in_rank_order(make_product, django_assert_num_queries):
    # given products matching a word in their names and in their descriptions only
    for index in range(30):
        make_product(sku=f"LAMP-{index:02d}", name=f"Desk lamp {index}")
        make_product(sku=f"ORG-{index:02d}", name=f"Organizer {index}", description="fits under a lamp")
    filters = ProductFilter(search="lamp")
    everything = [p.sku for p in selectors.product_queryset(filters=filters, now=timezone.now())]
    catalog_changed()
    # when the second page is read with nothing cached
    # the count and the ids (one statement on PostgreSQL, which reads and ranks the matches once), then their rows
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        count, products = selectors.product_page(filters=filters, page=2, page_size=20, now=timezone.now())
    # then it is that slice of the ranked matches, whatever the database
    assert count == len(everything) == 60
    assert [p.sku for p in products] == everything[20:40]


def test_a_deep_page_is_the_same_page_read_by_ids_first(make_product, django_assert_num_queries):
    # given more products than the deep-page threshold, listed newest first and by price
    deep = selectors.DEEP_PAGE_OFFSET
    for index in range(deep + 3):
        make_product(sku=f"DEEP-{index:04d}", price=f"{1 + index % 7}.00")
    for filters in (ProductFilter(), ProductFilter(ordering="price")):
        everything = [p.sku for p in selectors.product_queryset(filters=filters, now=timezone.now())]
        selectors.product_page(filters=filters, page=1, page_size=2, now=timezone.now())  # the count, cached
        # when a page past the threshold is read
        with django_assert_num_queries(2):  # the ids, then their rows (the count is cached)
            count, products = selectors.product_page(filters=filters, page=deep // 2 + 1, page_size=2,
                                                     now=timezone.now())
        # then it holds the same products in the same order as reading everything would
        assert count == deep + 3
        assert [p.sku for p in products] == everything[deep:deep + 2]


@pytest.mark.parametrize("filters", [
    ProductFilter(), ProductFilter(in_stock=True), ProductFilter(min_price=Decimal("2"), max_price=Decimal("5")),
], ids=["everything", "in stock", "price range"])
def test_a_deep_page_counts_from_its_first_product_exactly(make_product, django_assert_num_queries, monkeypatch,
                                                           filters):
    # given more products than the deep-page threshold, some created at the very same instant, some sold out, some
    # out of the price range
    deep = 40
    monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", deep)
    for index in range(deep + 30):
        make_product(sku=f"DEEP-{index:04d}", price=f"{2 + index % 4 if index % 10 else 9}.00", stock=index % 7)
    same_instant = Product.objects.order_by("-created_at", "id")[deep - 15].created_at
    tied = Product.objects.order_by("-created_at", "id").values_list("id", flat=True)[deep - 20:deep + 10]
    Product.objects.filter(pk__in=list(tied)).update(created_at=same_instant)
    everything = [p.sku for p in selectors.product_queryset(filters=filters, now=timezone.now())]
    assert len(everything) > deep + 2
    for start in (deep - deep % 4, len(everything) - 3, len(everything) - 1):
        page = start // 4 + 1
        catalog_changed()
        # when a deep page is read with nothing cached
        # (the ids, those after the first that are older, those of its instant, then the rows; and the boundary)
        with django_assert_num_queries(4 + selectors.prices_matter(filters) * 2):
            count, products = selectors.product_page(filters=filters, page=page, page_size=4, now=timezone.now())
        # then the count is exact and the page is that slice of everything, ties in the order included
        assert count == len(everything)
        assert [p.sku for p in products] == everything[(page - 1) * 4:page * 4]
    catalog_changed()
    assert selectors.product_page(filters=filters, page=len(everything) // 4 + 2, page_size=4,
                                  now=timezone.now()) == (len(everything), [])


@pytest.mark.parametrize("ordering", [None, "price", "-price", "name", "-name", "created_at", "-created_at"])
def test_a_page_that_visits_every_match_is_counted_and_ordered_exactly(make_product, ordering):
    # given matches and non-matches, with ties in every sort key
    for index in range(40):
        make_product(f"Desk lamp {index % 5}", sku=f"LAMP-{index:02d}", price=f"{1 + index % 3}.00")
        make_product(f"Organizer {index % 5}", sku=f"ORG-{index:02d}", price=f"{1 + index % 3}.00",
                     description="fits under a lamp" if index % 2 else "")
        make_product(f"Shelf {index}", sku=f"SHELF-{index:02d}")
    for filters in (ProductFilter(search="lamp", ordering=ordering), ProductFilter(ordering=ordering),
                    ProductFilter(search="lamp", ordering=ordering, min_price=Decimal("2"))):
        everything = [p.sku for p in selectors.product_queryset(filters=filters, now=timezone.now())]
        for page in (1, 3, len(everything) // 7 + 1):
            catalog_changed()
            # when a page is read with nothing cached
            count, products = selectors.product_page(filters=filters, page=page, page_size=7, now=timezone.now())
            # then the count is exact and the page is that slice of everything
            assert count == len(everything), filters
            assert [p.sku for p in products] == everything[(page - 1) * 7:page * 7], filters


@pytest.mark.postgres
def test_a_typo_is_counted_and_paged_by_name_similarity(make_product, django_assert_num_queries):
    # given names that nearly match a misspelt word, and others
    for index in range(12):
        make_product(f"Wireless speaker {index}", sku=f"SPK-{index:02d}")
        make_product(f"Desk lamp {index}", sku=f"LAMP-{index:02d}")
    filters = ProductFilter(search="wirelss")
    everything = [p.sku for p in selectors.product_queryset(filters=filters, now=timezone.now(), typo_fallback=True)]
    catalog_changed()
    # when a page is read with nothing cached: the words match nothing, so the similar names are counted and paged
    with django_assert_num_queries(3):  # the words' count and ids, the similar names' count and ids, their rows
        count, products = selectors.product_page(filters=filters, page=2, page_size=5, now=timezone.now())
    # then those are the names that nearly match, in order of similarity
    assert count == len(everything) == 12
    assert [p.sku for p in products] == everything[5:10]
    assert all(sku.startswith("SPK-") for sku in everything)
