"""The one JSON parser of the public API, with limits a client cannot talk its way past.

Rules guarded here: a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, and a body nested deeper than
``MAX_JSON_DEPTH`` is a 400, on every JSON endpoint, before any view or serializer sees it. DRF's own parser streams
the body straight from the socket (so Django's upload limit never applies) and lets the JSON decoder recurse until
Python gives up with a ``RecursionError`` (a 500). No request this API documents is nested more than a few levels.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

MAX_JSON_DEPTH = 32


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def nesting_depth(value: Any, *, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0); stops counting once past ``stop_above``.
    Iterative, so it cannot itself run out of stack."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending and deepest <= stop_above:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = (stream.read() if limit is None else stream.read(limit + 1)) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            # The C decoder stops cleanly at Python's recursion limit; anything that deep is refused anyway.
            raise too_deep() from None
        except ValueError as error:  # also UnicodeDecodeError
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        if nesting_depth(data) > MAX_JSON_DEPTH:
            raise too_deep()
        return data
