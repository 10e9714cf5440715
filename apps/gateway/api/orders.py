"""Public order endpoints. The owner comes from the access token, never from the request: a customer reads and
cancels only their own orders (another customer's answers 404, exactly like a missing one), while order_staff and
admins see every order and move it through fulfilment. Checkout is idempotent per ``Idempotency-Key``: the key and a
fingerprint of the request are handed to the orders contract, which replays the first answer for the same request
and refuses the key for a different one."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.orders_serializers import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    STATUS_CHOICES,
    CheckoutInputSerializer,
    IdempotencyKeyHeaderSerializer,
    OrderListQuerySerializer,
    OrderOutputSerializer,
    OrderStatusInputSerializer,
)
from apps.gateway.api.validation import validated, validated_query
from ecommerce.api.pagination import PAGE_PARAMETERS, page_params, paginated_body, paginated_serializer
from ecommerce.contracts.orders import OrderDTO, OrderStatus, ShippingAddressInput, orders_service
from ecommerce.errors import ContractError
from ecommerce.permissions import IsAuthenticatedPrincipal, IsOrderStaff, principal_has_role, verified_email_required
from ecommerce.roles import Role

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER, {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
    OpenApiParameter.HEADER, required=True,
    description="Unique per checkout attempt (at most 255 characters), kept 24 h. The same key with the same body "
    "replays the first answer; with another body: 422 `idempotency_conflict`; while the first request runs: 409.",
)
REPLAYED_PARAMETER = OpenApiParameter(
    REPLAYED_HEADER, str, OpenApiParameter.HEADER, response=True, enum=["true"],
    description="Present (`true`) when the answer is a replay of an earlier request with the same key.",
)
ORDER_ID_PARAMETER = OpenApiParameter("order_id", UUID, OpenApiParameter.PATH)
OrderPageSerializer = paginated_serializer(OrderOutputSerializer, "PaginatedOrderList")


def _order_response(order: OrderDTO, status_code: int = status.HTTP_200_OK,
                    headers: dict[str, str] | None = None) -> Response:
    return Response(OrderOutputSerializer(order).data, status=status_code, headers=headers)


def _is_order_staff(request: Request) -> bool:
    return principal_has_role(request, Role.ORDER_STAFF)


def request_fingerprint(request: Request) -> str:
    """What "the same request" means for an idempotency key: the same path and the same JSON body, whatever the
    order of its keys or its whitespace."""
    canonical_body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{request.path}\n{canonical_body}".encode()).hexdigest()


class OrdersView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
    # GET: bad filters or paging; a page past the end. POST: 403 email_not_verified, when the shop requires it.
    problem_statuses = {"GET": [400, 404], "POST": [403, 404, 409, 422]}

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A replayed failure (empty cart, short stock, ...) is the first answer again: say so, as for a success.
        if isinstance(exc, ContractError) and exc.extra.get("replayed"):
            response[REPLAYED_HEADER] = "true"
        return response

    @extend_schema(
        operation_id="orders_list",
        tags=["orders"],
        parameters=[
            OpenApiParameter("status", str, enum=STATUS_CHOICES, description="Only orders in this status."),
            OpenApiParameter("user_id", {"type": "integer", "minimum": 1},
                             description="order_staff and admin only: one user's orders. Ignored "
                             "for customers, who always see their own."),
            *PAGE_PARAMETERS,
        ],
        responses={200: OrderPageSerializer},
        summary="Orders, newest first",
        description="Customers see their own orders; order_staff and admin see every order.",
    )
    def get(self, request: Request) -> Response:
        query = validated_query(OrderListQuerySerializer, request.query_params)
        page, page_size = page_params(request)
        user_id = query.get("user_id") if _is_order_staff(request) else request.user.id
        status_filter = query.get("status")
        result = orders_service.order_list(
            user_id=user_id, status=OrderStatus(status_filter) if status_filter else None, page=page,
            page_size=page_size,
        )
        body = paginated_body(request, page=page, page_size=page_size, count=result.count,
                              results=OrderOutputSerializer(result.results, many=True).data)
        return Response(body)

    @extend_schema(
        operation_id="orders_checkout",
        tags=["orders"],
        parameters=[IDEMPOTENCY_KEY_PARAMETER, REPLAYED_PARAMETER],
        request=CheckoutInputSerializer,
        responses={201: OrderOutputSerializer},
        summary="Check out the cart",
        description="Makes an order from the cart at today's effective prices, reserves the stock and empties the "
        "cart; a cart is checked out at most once, whatever keys its checkouts carry. The address is a saved one "
        "(`address_id`) or given inline (`shipping_address`, checked like the address endpoints; `save: true` also "
        "keeps it). The cart's voucher is redeemed and shown as the order's `discount`; one that no longer applies: "
        "400 `voucher_invalid`. With `expected_total`, a cart total that differs answers 409 `price_changed` listing "
        "the lines whose price changed (`old_unit_price`, `new_unit_price`) and reserves nothing; without it, "
        "today's prices are charged. Missing or too long "
        "`Idempotency-Key`, or an empty cart: 400 `validation_error`; unknown address: 404; any line short of "
        "stock: 409 `insufficient_stock` naming the lines, and nothing is reserved; another checkout of the cart "
        "still running: 409 `cart_checkout_in_progress`; as many unpaid orders as one user may hold "
        "(`ECOMMERCE_MAX_OPEN_ORDERS_PER_USER`): 409 `too_many_open_orders`; the same key still being processed: "
        "409 `idempotency_in_progress`; the same key with another body: 422 `idempotency_conflict`. A replay "
        "answers the first status and body (even if the order changed since) with `Idempotent-Replayed: true`.",
    )
    def post(self, request: Request) -> Response:
        verified_email_required(request)  # 403 email_not_verified when ECOMMERCE_REQUIRE_VERIFIED_EMAIL is on
        key_value = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        key = IdempotencyKeyHeaderSerializer(data={} if key_value is None else {"idempotency_key": key_value})
        body = CheckoutInputSerializer(data=request.data)
        errors: dict[str, Any] = {}
        if not key.is_valid():
            errors[IDEMPOTENCY_KEY_HEADER] = key.errors["idempotency_key"]
        if not body.is_valid():
            errors.update(body.errors)
        if errors:
            raise exceptions.ValidationError(errors)
        inline = body.validated_data.get("shipping_address")
        result = orders_service.order_checkout(
            user_id=request.user.id,
            address_id=body.validated_data.get("address_id"),
            shipping_address=ShippingAddressInput(**inline) if inline is not None else None,
            expected_total=body.validated_data.get("expected_total"),
            idempotency_key=key.validated_data["idempotency_key"],
            request_fingerprint=request_fingerprint(request),
        )
        headers = {REPLAYED_HEADER: "true"} if result.replayed else None
        return _order_response(result.order, status.HTTP_201_CREATED, headers)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]

    @extend_schema(operation_id="orders_retrieve", tags=["orders"], parameters=[ORDER_ID_PARAMETER],
                   responses={200: OrderOutputSerializer}, summary="One order",
                   description="The owner, order_staff or admin; another customer's order: 404.")
    def get(self, request: Request, order_id: UUID) -> Response:
        owner_id = None if _is_order_staff(request) else request.user.id
        return _order_response(orders_service.order_get(order_id=order_id, user_id=owner_id))


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
    problem_statuses = {"POST": [409]}

    @extend_schema(
        operation_id="orders_cancel", tags=["orders"], parameters=[ORDER_ID_PARAMETER], request=None,
        responses={200: OrderOutputSerializer}, summary="Cancel an order",
        description="The owner, order_staff or admin. Allowed from `pending` and `paid` (a paid order is "
        "refunded); the stock returns to the catalog. Otherwise 409 `invalid_transition`.",
    )
    def post(self, request: Request, order_id: UUID) -> Response:
        owner_id = None if _is_order_staff(request) else request.user.id
        order = orders_service.order_cancel(order_id=order_id, user_id=owner_id, actor_id=request.user.id)
        return _order_response(order)


class OrderStatusView(APIView):
    permission_classes = [IsOrderStaff]
    problem_statuses = {"POST": [409]}

    @extend_schema(
        operation_id="orders_status_update", tags=["orders"], parameters=[ORDER_ID_PARAMETER],
        request=OrderStatusInputSerializer, responses={200: OrderOutputSerializer},
        summary="Move an order along its status machine (order_staff)",
        description="pending → paid (a manual, offline payment) → shipped → delivered; pending or paid → "
        "canceled (stock released; a paid order is refunded). Anything else: 409 `invalid_transition`. Shipping "
        "may name `carrier` and `tracking_number` (both or neither), which the order then shows.",
    )
    def post(self, request: Request, order_id: UUID) -> Response:
        data = validated(OrderStatusInputSerializer, request.data)
        order = orders_service.order_transition(order_id=order_id, status=OrderStatus(data["status"]),
                                                actor_id=request.user.id, carrier=data.get("carrier"),
                                                tracking_number=data.get("tracking_number"))
        return _order_response(order)


urlpatterns = [
    path("orders", OrdersView.as_view(), name="orders"),
    path("orders/<uuid:order_id>", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/cancel", OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:order_id>/status", OrderStatusView.as_view(), name="order-status"),
]
