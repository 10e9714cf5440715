"""Public cart endpoints. Every one acts on the signed-in user's own cart only (the user id comes from the access
token, never from the request), so no other shopper's cart can be read or changed through them. A cart answer is
composed from the carts and products contracts by ``apps.gateway.composition.cart``."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.cart_serializers import (
    CartItemAddInputSerializer,
    CartItemQuantityInputSerializer,
    CartOutputSerializer,
)
from apps.gateway.api.validation import validated
from apps.gateway.composition import cart as cart_composition
from apps.gateway.composition.cart import PricedCart
from ecommerce.contracts.carts import carts_service
from ecommerce.permissions import IsAuthenticatedPrincipal


def _cart_response(cart: PricedCart, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(cart).data, status=status_code)


class CartView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]

    @extend_schema(operation_id="cart_retrieve", tags=["cart"], responses={200: CartOutputSerializer},
                   summary="The signed-in user's cart, priced at today's prices")
    def get(self, request: Request) -> Response:
        return _cart_response(cart_composition.cart_priced(user_id=request.user.id))

    @extend_schema(operation_id="cart_clear", tags=["cart"],
                   responses={204: OpenApiResponse(description="The cart is empty.")}, summary="Empty the cart")
    def delete(self, request: Request) -> Response:
        carts_service.cart_clear(user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemsView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
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
    def post(self, request: Request) -> Response:
        line = validated(CartItemAddInputSerializer, request.data)
        cart = cart_composition.cart_item_add(user_id=request.user.id, **line)
        return _cart_response(cart, status.HTTP_201_CREATED)


class CartItemView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
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
    def patch(self, request: Request, product_id: int) -> Response:
        quantity = validated(CartItemQuantityInputSerializer, request.data)["quantity"]
        cart = cart_composition.cart_item_set_quantity(user_id=request.user.id, product_id=product_id,
                                                       quantity=quantity)
        return _cart_response(cart)

    @extend_schema(operation_id="cart_items_remove", tags=["cart"], responses={200: CartOutputSerializer},
                   summary="Remove a line from the cart", description="Product not in the cart: 404 `not_found`.")
    def delete(self, request: Request, product_id: int) -> Response:
        return _cart_response(cart_composition.cart_item_remove(user_id=request.user.id, product_id=product_id))


urlpatterns = [
    path("cart", CartView.as_view(), name="cart"),
    path("cart/items", CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:product_id>", CartItemView.as_view(), name="cart-item"),
]
