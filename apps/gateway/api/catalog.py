"""Public catalog API: categories, products and stock. Anyone may read what is on sale; catalog staff (and admins)
write, and only they see inactive products. Each view validates its input, calls one products contract method and
renders the DTO it gets back."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api import catalog_reads
from apps.gateway.api.catalog_serializers import (
    CategoryInputSerializer,
    CategoryOutputSerializer,
    ProductCreateInputSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
    StockAdjustInputSerializer,
)
from apps.gateway.api.validation import MONEY_PATTERN, validated
from ecommerce.api.pagination import PAGE_PARAMETERS, page_params, paginated_body, paginated_serializer
from ecommerce.contracts.products import (
    CategoryChanges,
    CategoryInput,
    ProductChanges,
    ProductInput,
    ProductOrdering,
    StockActor,
    products_service,
)
from ecommerce.permissions import IsCatalogStaff, principal_has_role
from ecommerce.roles import Role

CATALOG_TAG = ["catalog"]

PaginatedCategories = paginated_serializer(CategoryOutputSerializer, "PaginatedCategoryList")
PaginatedProducts = paginated_serializer(ProductOutputSerializer, "PaginatedProductList")

POSITIVE_ID = {"type": "integer", "minimum": 1}
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, OpenApiParameter.HEADER,
    description="The ETag of a copy the client holds; 304 without a body while it is still current.")
NOT_MODIFIED = OpenApiResponse(description="Not modified: the copy whose ETag was sent is current.")
PRODUCT_FILTER_PARAMETERS = [
    OpenApiParameter("search", str, description="Words to find in name, sku and description (typos tolerated on "
                                                "PostgreSQL); results ranked by relevance unless ordered."),
    OpenApiParameter("category", POSITIVE_ID,
                     description="Category id; products of its sub-categories are included."),
    OpenApiParameter("min_price", {"type": "string", "pattern": MONEY_PATTERN},
                     description="Lowest effective price, e.g. 10.00."),
    OpenApiParameter("max_price", {"type": "string", "pattern": MONEY_PATTERN},
                     description="Highest effective price, e.g. 99.99."),
    OpenApiParameter("in_stock", bool,
                     description="true: only products available to buy now; false: only those that are not."),
    OpenApiParameter("ordering", str, enum=[o.value for o in ProductOrdering],
                     description="Sort key; price means the effective price. Default: newest first."),
]


class ReadOpenWriteStaff(APIView):
    """Reading is public; every other method needs catalog staff (401 without a token, 403 without the role)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request is not None and self.request.method in {"GET", "HEAD", "OPTIONS"}:
            return [AllowAny()]
        return [IsCatalogStaff()]


def _staff(request: Request) -> bool:
    return principal_has_role(request, Role.CATALOG_STAFF)



# --- categories -----------------------------------------------------------------------------------------------------

class CategoryListView(ReadOpenWriteStaff):
    problem_statuses = {"GET": [400, 404]}  # bad page parameters; a page past the end

    @extend_schema(tags=CATALOG_TAG, operation_id="categories_list", parameters=PAGE_PARAMETERS,
                   responses=PaginatedCategories, summary="List categories")
    def get(self, request: Request) -> Response:
        page, page_size = page_params(request)
        result = products_service.category_list(page=page, page_size=page_size)
        results = CategoryOutputSerializer(result.results, many=True).data
        return Response(paginated_body(request, page=page, page_size=page_size, count=result.count, results=results))

    @extend_schema(tags=CATALOG_TAG, operation_id="categories_create", request=CategoryInputSerializer,
                   responses={201: CategoryOutputSerializer}, summary="Create a category (catalog staff)")
    def post(self, request: Request) -> Response:
        category = products_service.category_create(category=CategoryInput(**validated(CategoryInputSerializer,
                                                                                         request.data)))
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(ReadOpenWriteStaff):
    problem_statuses = {"DELETE": [409]}

    @extend_schema(tags=CATALOG_TAG, operation_id="categories_retrieve", responses=CategoryOutputSerializer,
                   summary="One category")
    def get(self, request: Request, category_id: int) -> Response:
        return Response(CategoryOutputSerializer(products_service.category_get(category_id=category_id)).data)

    @extend_schema(tags=CATALOG_TAG, operation_id="categories_partial_update", request=CategoryInputSerializer,
                   responses=CategoryOutputSerializer, summary="Change a category (catalog staff)")
    def patch(self, request: Request, category_id: int) -> Response:
        changes = CategoryChanges(**validated(CategoryInputSerializer, request.data, partial=True))
        category = products_service.category_update(category_id=category_id, changes=changes)
        return Response(CategoryOutputSerializer(category).data)

    @extend_schema(tags=CATALOG_TAG, operation_id="categories_destroy", responses={204: None},
                   summary="Delete an empty category (catalog staff)",
                   description="409 `conflict` while the category still has products or sub-categories.")
    def delete(self, request: Request, category_id: int) -> Response:
        products_service.category_delete(category_id=category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- products -------------------------------------------------------------------------------------------------------

class ProductListView(ReadOpenWriteStaff):
    problem_statuses = {"GET": [400, 404]}  # bad filters or page parameters; a page past the end

    @extend_schema(tags=CATALOG_TAG, operation_id="products_list",
                   parameters=[*PRODUCT_FILTER_PARAMETERS, *PAGE_PARAMETERS, IF_NONE_MATCH],
                   responses={200: PaginatedProducts, 304: NOT_MODIFIED},
                   summary="List products",
                   description="Inactive products are listed only for catalog staff.")
    def get(self, request: Request) -> HttpResponse:
        return catalog_reads.list_response(request, include_inactive=_staff(request))

    @extend_schema(tags=CATALOG_TAG, operation_id="products_create", request=ProductCreateInputSerializer,
                   responses={201: ProductOutputSerializer}, summary="Create a product (catalog staff)",
                   description="`stock` is the initial quantity on hand; later it changes only through /stock.")
    def post(self, request: Request) -> Response:
        product = products_service.product_create(
            product=ProductInput(**validated(ProductCreateInputSerializer, request.data)),
            actor=StockActor(id=request.user.id))
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(ReadOpenWriteStaff):
    @extend_schema(tags=CATALOG_TAG, operation_id="products_retrieve", parameters=[IF_NONE_MATCH],
                   responses={200: ProductOutputSerializer, 304: NOT_MODIFIED},
                   summary="One product", description="An inactive product is 404 except for catalog staff.")
    def get(self, request: Request, product_id: int) -> HttpResponse:
        return catalog_reads.product_response(request, product_id=product_id, include_inactive=_staff(request))

    @extend_schema(tags=CATALOG_TAG, operation_id="products_update", request=ProductInputSerializer,
                   responses=ProductOutputSerializer, summary="Replace a product (catalog staff)",
                   description="Every field is replaced (omitted optional fields take their defaults); "
                               "`stock` is ignored.")
    def put(self, request: Request, product_id: int) -> Response:
        product_input = ProductInput(**validated(ProductInputSerializer, request.data))
        product = products_service.product_replace(product_id=product_id, product=product_input)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(tags=CATALOG_TAG, operation_id="products_partial_update", request=ProductInputSerializer,
                   responses=ProductOutputSerializer, summary="Change a product (catalog staff)",
                   description="Only the fields sent change; `stock` is ignored.")
    def patch(self, request: Request, product_id: int) -> Response:
        changes = ProductChanges(**validated(ProductInputSerializer, request.data, partial=True))
        product = products_service.product_update(product_id=product_id, changes=changes)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(tags=CATALOG_TAG, operation_id="products_destroy", responses={204: None},
                   summary="Delete a product (catalog staff)",
                   description="A product that was ever ordered is deactivated instead, so order history stays whole.")
    def delete(self, request: Request, product_id: int) -> Response:
        products_service.product_delete(product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductStockView(APIView):
    permission_classes = [IsCatalogStaff]
    problem_statuses = {"POST": [409]}

    @extend_schema(tags=CATALOG_TAG, operation_id="products_stock_adjust", request=StockAdjustInputSerializer,
                   responses=ProductOutputSerializer, summary="Receive or write off stock (catalog staff)",
                   description="409 `insufficient_stock` if the write-off would leave less on hand than open "
                               "orders have reserved. Every change is audited with its `reason`, who made it and "
                               "the quantities before and after (visible on the product in the admin).")
    def post(self, request: Request, product_id: int) -> Response:
        adjustment = validated(StockAdjustInputSerializer, request.data)
        product = products_service.product_stock_adjust(product_id=product_id, delta=adjustment["delta"],
                                                        reason=adjustment["reason"],
                                                        actor=StockActor(id=request.user.id))
        return Response(ProductOutputSerializer(product).data)


urlpatterns = [
    path("categories", CategoryListView.as_view(), name="category-list"),
    path("categories/<int:category_id>", CategoryDetailView.as_view(), name="category-detail"),
    path("products", ProductListView.as_view(), name="product-list"),
    path("products/<int:product_id>", ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:product_id>/stock", ProductStockView.as_view(), name="product-stock"),
]
