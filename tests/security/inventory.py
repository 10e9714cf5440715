"""What the public API serves, read from the URLconf and the OpenAPI document, never typed by hand: every module of
the security suite walks these lists, so an endpoint added tomorrow is tested (or fails the suite) without anyone
remembering to add it."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.urls import URLPattern, URLResolver
from drf_spectacular.generators import SchemaGenerator

from apps.gateway import urls as gateway_urls

API_PREFIX = "/api/v1/"
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_NOT_OPERATIONS = {"options", "head"}


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_walk(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern.callback))
    return found


@cache
def urlconf_operations() -> frozenset[str]:
    """Every ``METHOD /api/v1/path/{param}`` the public URLconf routes to a view method."""
    operations = set()
    for route, callback in _walk(gateway_urls.urlpatterns, API_PREFIX):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        path = _CONVERTER.sub(r"{\1}", route)
        for method in view_class.http_method_names:
            if method not in _NOT_OPERATIONS and hasattr(view_class, method):
                operations.add(f"{method.upper()} {path}")
    return frozenset(operations)


@cache
def openapi_document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations() -> dict[str, dict[str, Any]]:
    """Every operation of the OpenAPI document, by ``METHOD /path``."""
    return {f"{method.upper()} {path}": operation
            for path, item in openapi_document()["paths"].items() for method, operation in item.items()}


def request_properties(operation: dict[str, Any]) -> set[str] | None:
    """The JSON body properties an operation documents, or None when it takes no JSON object body."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = openapi_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {})) if "properties" in schema else None


def page_size_operations() -> list[str]:
    return sorted(key for key, operation in schema_operations().items()
                  if any(p["name"] == "page_size" for p in operation.get("parameters", [])))
