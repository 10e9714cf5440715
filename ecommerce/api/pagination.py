"""Page-number pagination over contract results. Contracts return ``Page`` DTOs (one page plus the total
count), so the database does the slicing whichever process owns it; the gateway only adds the links.

Rule guarded here: a link never repeats the request's Host (or X-Forwarded-Host) header, which the client chooses and
which can name an internal host behind the ingress. Links start with ``ECOMMERCE_PUBLIC_BASE_URL`` when it is set and
are relative to the API's own address (``/api/v1/products?page=2``) otherwise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ecommerce.api.query import flat_query
from ecommerce.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The minimum is in the schema because a value below it is a 400: clients and fuzzers must know it is invalid.
PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number, from 1."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1},
        description=f"Items per page (default {DEFAULT_PAGE_SIZE}; a larger size is capped at {MAX_PAGE_SIZE}).",
    ),
]


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, default=DEFAULT_PAGE_SIZE)

    def validate_page_size(self, value: int) -> int:
        return min(value, MAX_PAGE_SIZE)


def page_params(request: Request) -> tuple[int, int]:
    query = PageQuerySerializer(data=flat_query(request.query_params))
    query.is_valid(raise_exception=True)
    return query.validated_data["page"], query.validated_data["page_size"]


def page_links(request: Request, *, page: int, page_size: int, count: int) -> tuple[str | None, str | None]:
    """The ``next`` and ``previous`` links of a page; a page past the end is 404."""
    last_page = max(1, -(-count // page_size))
    if page > last_page:
        raise exceptions.NotFound("Invalid page.")
    url = f"{settings.ECOMMERCE_PUBLIC_BASE_URL}{request.get_full_path()}"
    next_url = replace_query_param(url, "page", page + 1) if page < last_page else None
    if page <= 1:
        previous_url = None
    elif page == 2:
        previous_url = remove_query_param(url, "page")
    else:
        previous_url = replace_query_param(url, "page", page - 1)
    return next_url, previous_url


def paginated_body(request: Request, *, page: int, page_size: int, count: int, results: list[Any]) -> dict[str, Any]:
    next_url, previous_url = page_links(request, page=page, page_size=page_size, count=count)
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


@extend_schema_field(OpenApiTypes.URI_REF)
class PageLinkField(serializers.CharField):
    """Absolute from ECOMMERCE_PUBLIC_BASE_URL when it is configured, else a path relative to the API's host."""


def paginated_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The documented shape of a page of ``item`` for the OpenAPI schema."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": PageLinkField(allow_null=True),
            "previous": PageLinkField(allow_null=True),
            "results": item(many=True),
        },
    )
