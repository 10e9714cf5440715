"""Staff API of vouchers: catalog staff (and admins) create, read, change and delete them through the orders
contract, which owns vouchers because orders spend them. Shoppers never list vouchers: they apply a code to their
cart (``cart/voucher``)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.orders_serializers import MONEY
from apps.gateway.api.validation import MoneyInputField, StrictInputSerializer, validated
from ecommerce.api.pagination import PAGE_PARAMETERS, page_params, paginated_body, paginated_serializer
from ecommerce.contracts.orders import VoucherChanges, VoucherInput, VoucherKind, orders_service
from ecommerce.permissions import IsCatalogStaff

VOUCHERS_TAG = ["vouchers"]
KIND_CHOICES = [kind.value for kind in VoucherKind]


class VoucherInputSerializer(StrictInputSerializer):
    """Shapes only; the rules (code format, percent at most 100, a window that ends after it starts, limits of at
    least 1) are the orders service's."""

    code = serializers.CharField(
        max_length=64, trim_whitespace=False, help_text="Letters, digits, '-' and '_'; stored upper-case.",
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$",
                                   message="3 to 64 letters, digits, '-' or '_', starting with a letter or digit.")])
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    value = MoneyInputField(help_text="A percent (up to 100) or an amount off the subtotal.")
    min_subtotal = MoneyInputField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    max_uses = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2_147_483_647,
                                        help_text="Orders in all; null: no limit.")
    max_uses_per_customer = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                     max_value=2_147_483_647,
                                                     help_text="Orders per customer; null: no limit.")


class VoucherOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    value = serializers.DecimalField(**MONEY)
    min_subtotal = serializers.DecimalField(**MONEY, allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    max_uses = serializers.IntegerField(allow_null=True)
    max_uses_per_customer = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField(help_text="Orders holding a use now; a canceled order gives its use back.")


VoucherPage = paginated_serializer(VoucherOutputSerializer, "PaginatedVoucherList")


class VoucherListView(APIView):
    permission_classes = [IsCatalogStaff]
    problem_statuses = {"GET": [400, 404]}

    @extend_schema(tags=VOUCHERS_TAG, operation_id="vouchers_list", parameters=PAGE_PARAMETERS,
                   responses={200: VoucherPage}, summary="List vouchers (catalog staff)")
    def get(self, request: Request) -> Response:
        page, page_size = page_params(request)
        result = orders_service.voucher_list(page=page, page_size=page_size)
        return Response(paginated_body(request, page=page, page_size=page_size, count=result.count,
                                       results=VoucherOutputSerializer(result.results, many=True).data))

    @extend_schema(tags=VOUCHERS_TAG, operation_id="vouchers_create", request=VoucherInputSerializer,
                   responses={201: VoucherOutputSerializer}, summary="Create a voucher (catalog staff)",
                   description="A taken code, a percent over 100, a window that ends before it starts or a limit "
                   "below 1: 400 `validation_error` naming the field.")
    def post(self, request: Request) -> Response:
        voucher = orders_service.voucher_create(voucher=VoucherInput(**validated(VoucherInputSerializer,
                                                                                  request.data)))
        return Response(VoucherOutputSerializer(voucher).data, status=status.HTTP_201_CREATED)


class VoucherDetailView(APIView):
    permission_classes = [IsCatalogStaff]
    problem_statuses = {"DELETE": [409]}

    @extend_schema(tags=VOUCHERS_TAG, operation_id="vouchers_retrieve", responses={200: VoucherOutputSerializer},
                   summary="One voucher (catalog staff)")
    def get(self, request: Request, voucher_id: int) -> Response:
        return Response(VoucherOutputSerializer(orders_service.voucher_get(voucher_id=voucher_id)).data)

    @extend_schema(tags=VOUCHERS_TAG, operation_id="vouchers_partial_update", request=VoucherInputSerializer,
                   responses={200: VoucherOutputSerializer}, summary="Change a voucher (catalog staff)",
                   description="Only the fields sent change; null clears an optional one. `max_uses` below the uses "
                   "already taken: 400.")
    def patch(self, request: Request, voucher_id: int) -> Response:
        changes = VoucherChanges(**validated(VoucherInputSerializer, request.data, partial=True))
        voucher = orders_service.voucher_update(voucher_id=voucher_id, changes=changes)
        return Response(VoucherOutputSerializer(voucher).data)

    @extend_schema(tags=VOUCHERS_TAG, operation_id="vouchers_destroy", responses={204: None},
                   summary="Delete a voucher (catalog staff)",
                   description="A voucher that orders have used is kept for their history: 409 `conflict` (end its "
                   "window instead).")
    def delete(self, request: Request, voucher_id: int) -> Response:
        orders_service.voucher_delete(voucher_id=voucher_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("vouchers", VoucherListView.as_view(), name="vouchers"),
    path("vouchers/<int:voucher_id>", VoucherDetailView.as_view(), name="voucher-detail"),
]
