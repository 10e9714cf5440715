"""The served-answer entries the WSGI edge reads: what it recognises as a catalog read, and what it refuses to trust."""

from __future__ import annotations

import time

import pytest

from apps.gateway import served
from apps.gateway.edge import RecentBodies
from ecommerce.api.conditional import etag_of


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


def test_a_stamp_reads_back_as_written() -> None:
    stamp = served.Served(7, 9, time.time() + 60, '"abc"', 42)
    assert served.decode(served.encode(stamp)) == stamp
    forever = stamp._replace(valid_until=None)
    assert served.decode(served.encode(forever)) == forever


@pytest.mark.parametrize("raw", [
    None, b"", b"garbage",
    b'served1 1 2 - "x"\n{}',  # an earlier release's entry, body and all
    b'served2 1 2 - "x"', b'served9 1 2 - "x" 2', b'served2 one 2 - "x" 2', b'served2 1 2 soon "x" 2',
    b'served2 1 2 - "x" two', b'served2 1 2 - "x" 2 extra',
])
def test_anything_this_release_did_not_write_is_not_trusted(raw: bytes | None) -> None:
    assert served.decode(raw) is None


def test_an_entry_is_current_only_under_both_versions_and_before_its_limit() -> None:
    entry = served.Served(7, 9, time.time() + 60, '"abc"', 2)
    assert served.is_current(entry, catalog_version=7, stock_version=9)
    assert not served.is_current(entry, catalog_version=8, stock_version=9)
    assert not served.is_current(entry, catalog_version=7, stock_version=10)
    assert not served.is_current(entry, catalog_version=None, stock_version=9)
    assert not served.is_current(entry._replace(valid_until=time.time() - 1), catalog_version=7, stock_version=9)


def test_a_body_is_trusted_only_if_it_is_the_one_the_stamp_names() -> None:
    body = b'{"id":1,"name":"Kettle"}'
    stamp = served.Served(1, 1, None, etag_of(body), len(body))
    assert served.body_matches(stamp, body)
    assert not served.body_matches(stamp, None)
    assert not served.body_matches(stamp, body.replace(b"Kettle", b"Teapot"))
    assert not served.body_matches(stamp, body + b" ")
    # one key per body, whichever answers share it
    assert served.body_key(stamp.etag) == served.body_key(etag_of(bytes(body)))
    assert served.body_key(stamp.etag) != served.body_key(etag_of(b"{}"))


def test_recent_bodies_keep_the_latest_sent_within_their_bound() -> None:
    bodies = RecentBodies(max_bytes=30)
    bodies.put("a", b"x" * 10)
    bodies.put("b", b"y" * 10)
    bodies.put("c", b"z" * 10)
    assert bodies.get("a") == b"x" * 10  # sent again: now the latest
    bodies.put("d", b"w" * 10)  # over the bound: the least recently sent goes
    assert bodies.get("b") is None
    assert [bodies.get(etag) is not None for etag in "acd"] == [True, True, True]
    assert bodies.size == 30
    bodies.put("huge", b"h" * 31)  # larger than the whole bound: never kept
    assert bodies.get("huge") is None
    assert bodies.size == 30
