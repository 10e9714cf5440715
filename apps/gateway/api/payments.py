"""Public payment endpoints: an order's owner creates a payment for its total (idempotent per ``Idempotency-Key``,
like checkout) and, with the sandbox provider, plays the shopper's step on the provider's page; owners and
order_staff read payments (another customer's answers 404). Providers post their webhooks here: that endpoint takes
no credentials and no throttle (a provider retrying a burst of events must never be turned away), and hands the body
exactly as received, with the headers, to the orders contract, whose role holds the secrets and verifies it before
anything is read."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.orders import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_PARAMETER,
    ORDER_ID_PARAMETER,
    REPLAYED_HEADER,
    REPLAYED_PARAMETER,
    request_fingerprint,
)
from apps.gateway.api.orders_serializers import IdempotencyKeyHeaderSerializer
from apps.gateway.api.payments_serializers import (
    PaymentConfirmInputSerializer,
    PaymentOutputSerializer,
    WebhookReceiptSerializer,
)
from apps.gateway.api.validation import validated
from ecommerce.contracts.orders import PaymentDTO, orders_service
from ecommerce.permissions import IsAuthenticatedPrincipal, principal_has_role
from ecommerce.roles import Role

PAYMENT_ID_PARAMETER = OpenApiParameter("payment_id", UUID, OpenApiParameter.PATH)
# Credentials and cookies never travel on to the orders role; a provider sends none that matter.
_HEADERS_KEPT_BACK = frozenset({"authorization", "cookie", "proxy-authorization"})


def _payment_body(request: Request, payment: PaymentDTO) -> dict[str, Any]:
    """The client secret lets whoever holds it pay on the provider's page: only the order's owner sees it."""
    body = dict(PaymentOutputSerializer(payment).data)
    if payment.user_id != request.user.id:
        body["client_secret"] = None
    return body


class OrderPaymentsView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
    problem_statuses = {"POST": [409, 422, 503]}

    @extend_schema(
        operation_id="orders_payments_create", tags=["payments"],
        parameters=[ORDER_ID_PARAMETER, IDEMPOTENCY_KEY_PARAMETER, REPLAYED_PARAMETER], request=None,
        responses={201: PaymentOutputSerializer}, summary="Pay an order",
        description="The order's owner starts a payment of the order's total with the shop's provider and gets the "
        "`client_secret` its page needs. Another customer's order: 404; an order that is not `pending`: 409 "
        "`invalid_transition`; the provider unreachable: 503 `payment_provider_unavailable` (send the same key "
        "again). The same key replays the first answer with `Idempotent-Replayed: true`; with another order: 422 "
        "`idempotency_conflict`. The payment's outcome arrives from the provider: poll `GET /payments/{id}` or the "
        "order.",
    )
    def post(self, request: Request, order_id: UUID) -> Response:
        key_value = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        key = IdempotencyKeyHeaderSerializer(data={} if key_value is None else {"idempotency_key": key_value})
        if not key.is_valid():
            raise exceptions.ValidationError({IDEMPOTENCY_KEY_HEADER: key.errors["idempotency_key"]})
        result = orders_service.payment_create(
            order_id=order_id, user_id=request.user.id, idempotency_key=key.validated_data["idempotency_key"],
            request_fingerprint=request_fingerprint(request),
        )
        headers = {REPLAYED_HEADER: "true"} if result.replayed else None
        return Response(_payment_body(request, result.payment), status=status.HTTP_201_CREATED, headers=headers)


class PaymentDetailView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]

    @extend_schema(operation_id="payments_retrieve", tags=["payments"], parameters=[PAYMENT_ID_PARAMETER],
                   responses={200: PaymentOutputSerializer}, summary="One payment",
                   description="The order's owner, order_staff or admin; another customer's payment: 404.")
    def get(self, request: Request, payment_id: UUID) -> Response:
        owner_id = None if principal_has_role(request, Role.ORDER_STAFF) else request.user.id
        return Response(_payment_body(request, orders_service.payment_get(payment_id=payment_id, user_id=owner_id)))


class PaymentConfirmView(APIView):
    permission_classes = [IsAuthenticatedPrincipal]
    problem_statuses = {"POST": [409, 503]}

    @extend_schema(
        operation_id="payments_confirm", tags=["payments"], parameters=[PAYMENT_ID_PARAMETER],
        request=PaymentConfirmInputSerializer, responses={200: PaymentOutputSerializer},
        summary="Pay on the sandbox provider's page (sandbox only)",
        description="The order's owner plays the shopper's step on the sandbox's page: `4242424242424242` "
        "succeeds, `4000000000000002` is declined, any other number: 400. The result reaches the payment only "
        "through the provider's signed webhook, as with a real provider, so the answer may still say "
        "`requires_confirmation`. Another provider's payment: 409 `confirmation_not_supported`; a payment or order "
        "no longer awaiting it: 409 `invalid_transition`.",
    )
    def post(self, request: Request, payment_id: UUID) -> Response:
        card_number = validated(PaymentConfirmInputSerializer, request.data)["card_number"]
        payment = orders_service.payment_confirm(payment_id=payment_id, user_id=request.user.id,
                                                 card_number=card_number)
        return Response(_payment_body(request, payment))


class PaymentWebhookView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []
    # No parser: the verifier needs the body byte for byte, so it is never parsed here.
    parser_classes: list[type] = []
    problem_statuses = {"POST": [400, 404, 409, 413, 503]}

    @extend_schema(
        operation_id="payments_webhook", tags=["payments"],
        parameters=[OpenApiParameter("provider", str, OpenApiParameter.PATH, enum=["sandbox", "stripe"])],
        request={"application/json": OpenApiTypes.OBJECT}, responses={200: WebhookReceiptSerializer},
        summary="A payment provider's signed event",
        description="For the provider only. Verified before anything is read (`Sandbox-Signature` or "
        "`Stripe-Signature`: HMAC-SHA256 over `timestamp.body`, 5 minutes' tolerance): a missing, wrong or stale "
        "signature is 400 `invalid_signature` and changes nothing. An event seen before answers 200 `duplicate` and "
        "changes nothing twice. An event about a payment not recorded yet: 409 `payment_not_ready`, so the provider "
        "delivers it again. A provider other than the shop's: 404.",
    )
    def post(self, request: Request, provider: str) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()
                   if name.lower() not in _HEADERS_KEPT_BACK}
        receipt = orders_service.payment_webhook_receive(
            provider=provider, body_base64=base64.b64encode(request.body).decode("ascii"), headers=headers)
        return Response(WebhookReceiptSerializer(receipt).data)


urlpatterns = [
    path("orders/<uuid:order_id>/payments", OrderPaymentsView.as_view(), name="order-payments"),
    path("payments/webhooks/<slug:provider>", PaymentWebhookView.as_view(), name="payment-webhook"),
    path("payments/<uuid:payment_id>", PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<uuid:payment_id>/confirm", PaymentConfirmView.as_view(), name="payment-confirm"),
]
