"""Products rendered straight from contract DTOs to JSON bytes, without a second serializer pass.

Rule guarded here: the bytes are exactly what ``ProductOutputSerializer`` (the schema's description of a product)
would give: the same fields in the same order, money as two-place strings, timestamps in UTC with ``Z``. A test
compares the two for every kind of product. A product is kept in two pieces around its stock and ``updated_at``,
the only fields a sale changes, so a cached page can be brought up to date after sales without rendering it again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from ecommerce.contracts.products import ProductDTO
from ecommerce.money import currency, to_money

# (head, middle): head + stock + middle + updated_at + b"}" is one product.
ProductParts = tuple[bytes, bytes]


def iso(value: datetime | None) -> str | None:
    """DRF's rendering of a timestamp: ISO 8601 in UTC, ``Z`` for the zone."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def product_parts(product: ProductDTO) -> ProductParts:
    head = orjson.dumps({
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "short_description": product.short_description,
        "description": product.description,
        "category": product.category,
        "price": str(to_money(product.price)),
        "discount_type": product.discount_type.value,
        "discount_value": str(to_money(product.discount_value)),
        "discount_starts_at": iso(product.discount_starts_at),
        "discount_ends_at": iso(product.discount_ends_at),
        "effective_price": str(to_money(product.effective_price)),
        "currency": currency(),
        "image_url": product.image_url,
    })
    middle = b"".join([
        b',"is_active":', b"true" if product.is_active else b"false",
        b',"created_at":', orjson.dumps(iso(product.created_at)),
        b',"updated_at":',
    ])
    return head[:-1] + b',"stock":', middle


def product_bytes(parts: ProductParts, *, stock: int, updated_at: datetime) -> bytes:
    head, middle = parts
    return b"".join([head, str(stock).encode(), middle, orjson.dumps(iso(updated_at)), b"}"])


def product_json(product: ProductDTO) -> bytes:
    return product_bytes(product_parts(product), stock=product.stock, updated_at=product.updated_at)


def page_json(*, count: int, next_url: str | None, previous_url: str | None, results: bytes) -> bytes:
    """The paginated envelope around ``results`` (a rendered JSON array)."""
    return b"".join([
        b'{"count":', str(count).encode(), b',"next":', orjson.dumps(next_url), b',"previous":',
        orjson.dumps(previous_url), b',"results":', results, b"}",
    ])
