"""The served-answer entries the WSGI edge reads: what it recognises as a catalog read, and what it refuses to trust."""

from __future__ import annotations

import time

import pytest

from apps.gateway import served


@pytest.mark.parametrize(("path", "query_string"), [
    ("/api/v1/products", ""),
    ("/api/v1/products", "page=2&search=kettle"),
    ("/api/v1/products/5", ""),
])
def test_catalog_reads_have_a_key_of_their_own(path: str, query_string: str) -> None:
    key = served.key_for_path(path, query_string)
    assert key is not None
    assert key.startswith("catalog:served:")
    assert key == served.key_for_path(path, query_string)


def test_a_query_string_is_part_of_the_key() -> None:
    assert served.list_key("page=2") != served.list_key("page=02") != served.list_key("")


@pytest.mark.parametrize(("path", "query_string"), [
    ("/api/v1/products/", ""),
    ("/api/v1/products/05", ""),
    ("/api/v1/products/5", "x=1"),
    ("/api/v1/products/-5", ""),
    ("/api/v1/products/1234567890123456789", ""),
    ("/api/v1/products/5/stock", ""),
    ("/api/v1/categories", ""),
    ("/api/v1/cart", ""),
])
def test_anything_else_is_left_to_the_views(path: str, query_string: str) -> None:
    assert served.key_for_path(path, query_string) is None


def test_an_entry_reads_back_as_written() -> None:
    entry = served.Served(7, 9, time.time() + 60, '"abc"', b'{"id":1}\n{"tail":true}')
    assert served.decode(served.encode(entry)) == entry
    forever = entry._replace(valid_until=None)
    assert served.decode(served.encode(forever)) == forever


@pytest.mark.parametrize("raw", [None, b"", b"garbage", b"served1 1 2 - \"x\"", b"served9 1 2 - \"x\"\n{}",
                                 b"served1 one 2 - \"x\"\n{}", b"served1 1 2 soon \"x\"\n{}"])
def test_anything_this_release_did_not_write_is_not_trusted(raw: bytes | None) -> None:
    assert served.decode(raw) is None


def test_an_entry_is_current_only_under_both_versions_and_before_its_limit() -> None:
    entry = served.Served(7, 9, time.time() + 60, '"abc"', b"{}")
    assert served.is_current(entry, catalog_version=7, stock_version=9)
    assert not served.is_current(entry, catalog_version=8, stock_version=9)
    assert not served.is_current(entry, catalog_version=7, stock_version=10)
    assert not served.is_current(entry, catalog_version=None, stock_version=9)
    assert not served.is_current(entry._replace(valid_until=time.time() - 1), catalog_version=7, stock_version=9)
