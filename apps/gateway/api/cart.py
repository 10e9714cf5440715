"""Public cart endpoints. Each acts on the caller's own cart only: a signed-in user's (the user id comes from the
access token, never from the request) or, without one, a guest's named by the secret ``X-Cart-Token`` that
``POST /carts`` handed out. No other shopper's cart can be read or changed through them. A cart answer is composed
from the carts, products and orders contracts by ``apps.gateway.composition.cart`` and rendered by ``cart_render``;
a signed-in user's read is served from the cached answer (``cart_reads``), before this view when it can be
(``apps.gateway.cart_middleware``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.cart_reads import cart_response, user_cart_answer
from apps.gateway.api.cart_render import cart_json
from apps.gateway.api.cart_serializers import (
    CartItemAddInputSerializer,
    CartItemQuantityInputSerializer,
    CartOutputSerializer,
    GuestCartOutputSerializer,
    VoucherApplyInputSerializer,
)
from apps.gateway.api.validation import validated
from apps.gateway.composition import cart as cart_composition
from apps.gateway.composition.cart import PricedCart
from ecommerce.contracts.carts import carts_service
from ecommerce.permissions import IsAuthenticatedPrincipal

CART_TOKEN_HEADER = "X-Cart-Token"
# The cart endpoints' second credential, beside the bearer token: the OpenAPI document declares it as a security
# scheme of its own (``ecommerce.api.schema``), so clients and fuzzers know a request carries one or the other.
CART_TOKEN_SCHEME = {
    "type": "apiKey", "in": "header", "name": CART_TOKEN_HEADER,
    "description": "A guest cart's token (from `POST /carts`), on the cart endpoints instead of a bearer token. With "
    "a bearer token it is ignored there (sent to login or registration, it merges the guest cart into the user's). "
    "An unknown or expired token: 404 `not_found`.",
}


def guest_token_of(request: Request) -> str | None:
    return request.headers.get(CART_TOKEN_HEADER) or None


def cart_owner(request: Request) -> dict[str, Any]:
    """The signed-in user's cart when there is a user; otherwise the guest's."""
    if request.user and getattr(request.user, "is_authenticated", False):
        return {"user_id": request.user.id}
    return {"guest_token": guest_token_of(request)}


class IsCartOwner(IsAuthenticatedPrincipal):
    """A signed-in user, or a guest presenting a cart token (whether the token is valid is the cart's to say);
    anyone else is answered 401, as before guest carts."""

    alternative_credentials = {"cartToken": CART_TOKEN_SCHEME}

    def has_permission(self, request: Request, view: object) -> bool:
        signed_in = bool(request.user and getattr(request.user, "is_authenticated", False))
        return signed_in or guest_token_of(request) is not None


def _cart_response(cart: PricedCart, status_code: int = status.HTTP_200_OK) -> HttpResponse:
    return cart_response(cart_json(cart), status=status_code)


class GuestCartsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="guest_cart_create", tags=["cart"], request=None,
                   responses={201: GuestCartOutputSerializer}, summary="Start a guest cart",
                   description="For a shopper who has not signed in. The token names the cart on the cart endpoints "
                   "(`X-Cart-Token`); sent to login or registration, the guest cart merges into the user's. A guest "
                   "cart unchanged for `ECOMMERCE_GUEST_CART_TTL_HOURS` expires.")
    def post(self, request: Request) -> Response:
        return Response(GuestCartOutputSerializer(carts_service.guest_cart_create()).data,
                        status=status.HTTP_201_CREATED)


class CartView(APIView):
    permission_classes = [IsCartOwner]
    problem_statuses = {"GET": [404], "DELETE": [404]}

    @extend_schema(operation_id="cart_retrieve", tags=["cart"],
                   responses={200: CartOutputSerializer},
                   summary="The caller's cart, priced at today's prices",
                   description="Lines whose price changed since they were added show `price_changed_from`; a voucher "
                   "shows what it takes off now.")
    def get(self, request: Request) -> HttpResponse:
        owner = cart_owner(request)
        if "user_id" in owner:
            return cart_response(user_cart_answer(user_id=owner["user_id"]))
        return _cart_response(cart_composition.cart_priced(**owner))

    @extend_schema(operation_id="cart_clear", tags=["cart"],
                   responses={204: OpenApiResponse(description="The cart is empty.")}, summary="Empty the cart")
    def delete(self, request: Request) -> Response:
        carts_service.cart_clear(**cart_owner(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemsView(APIView):
    permission_classes = [IsCartOwner]
    problem_statuses = {"POST": [404, 409]}

    @extend_schema(
        operation_id="cart_items_add",
        tags=["cart"],
        request=CartItemAddInputSerializer,
        responses={201: CartOutputSerializer},
        summary="Add a product to the cart",
        description="Adds to an existing line. Unknown or inactive product: 404 `not_found`; quantity < 1: 400 "
        "`validation_error`; more than available: 409 `insufficient_stock` naming the line.",
    )
    def post(self, request: Request) -> HttpResponse:
        line = validated(CartItemAddInputSerializer, request.data)
        cart = cart_composition.cart_item_add(**cart_owner(request), **line)
        return _cart_response(cart, status.HTTP_201_CREATED)


class CartItemView(APIView):
    permission_classes = [IsCartOwner]
    problem_statuses = {"PATCH": [409]}

    @extend_schema(
        operation_id="cart_items_set_quantity",
        tags=["cart"],
        request=CartItemQuantityInputSerializer,
        responses={200: CartOutputSerializer},
        summary="Change a line's quantity (0 removes it)",
        description="Product not in the cart: 404 `not_found`; negative quantity: 400 `validation_error`; more "
        "than available: 409 `insufficient_stock`.",
    )
    def patch(self, request: Request, product_id: int) -> HttpResponse:
        quantity = validated(CartItemQuantityInputSerializer, request.data)["quantity"]
        cart = cart_composition.cart_item_set_quantity(**cart_owner(request), product_id=product_id,
                                                       quantity=quantity)
        return _cart_response(cart)

    @extend_schema(operation_id="cart_items_remove", tags=["cart"],
                   responses={200: CartOutputSerializer},
                   summary="Remove a line from the cart", description="Product not in the cart: 404 `not_found`.")
    def delete(self, request: Request, product_id: int) -> HttpResponse:
        return _cart_response(cart_composition.cart_item_remove(**cart_owner(request), product_id=product_id))


class CartVoucherView(APIView):
    permission_classes = [IsCartOwner]
    problem_statuses = {"POST": [404], "DELETE": [404]}

    @extend_schema(
        operation_id="cart_voucher_apply", tags=["cart"],
        request=VoucherApplyInputSerializer, responses={200: CartOutputSerializer},
        summary="Apply a voucher to the cart",
        description="Replaces any voucher the cart had. A code that is unknown, not valid yet, expired, below its "
        "minimum subtotal, used up, or used as often as one customer may: 400 `voucher_invalid` with `reason` "
        "(`unknown`, `not_started`, `expired`, `below_minimum`, `used_up`, `customer_limit`), and the cart is "
        "unchanged. The use is taken only by checkout.",
    )
    def post(self, request: Request) -> HttpResponse:
        code = validated(VoucherApplyInputSerializer, request.data)["code"]
        return _cart_response(cart_composition.cart_voucher_apply(**cart_owner(request), code=code))

    @extend_schema(operation_id="cart_voucher_remove", tags=["cart"],
                   request=None, responses={200: CartOutputSerializer}, summary="Remove the cart's voucher",
                   description="Removing when there is none is not an error.")
    def delete(self, request: Request) -> HttpResponse:
        return _cart_response(cart_composition.cart_voucher_remove(**cart_owner(request)))


urlpatterns = [
    path("carts", GuestCartsView.as_view(), name="guest-carts"),
    path("cart", CartView.as_view(), name="cart"),
    path("cart/items", CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:product_id>", CartItemView.as_view(), name="cart-item"),
    path("cart/voucher", CartVoucherView.as_view(), name="cart-voucher"),
]
