"""Page-number pagination over contract results. Contracts return ``Page`` DTOs (one page plus the total
count), so the database does the slicing whichever process owns it; the gateway only adds the links."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

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
    query = PageQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["page"], query.validated_data["page_size"]


def paginated_body(request: Request, *, page: int, page_size: int, count: int, results: list[Any]) -> dict[str, Any]:
    last_page = max(1, -(-count // page_size))
    if page > last_page:
        raise exceptions.NotFound("Invalid page.")
    url = request.build_absolute_uri()
    next_url = replace_query_param(url, "page", page + 1) if page < last_page else None
    if page <= 1:
        previous_url = None
    elif page == 2:
        previous_url = remove_query_param(url, "page")
    else:
        previous_url = replace_query_param(url, "page", page - 1)
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


def paginated_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The documented shape of a page of ``item`` for the OpenAPI schema."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
