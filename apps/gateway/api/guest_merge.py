"""The guest cart a shopper brings to sign-in (login or registration with ``X-Cart-Token``) becomes part of their
cart. Signing in is what the shopper came for: a merge that cannot be done now (the carts service is down) must not
refuse the sign-in, so it is skipped and logged, and the guest cart stays for the next sign-in to merge."""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from apps.gateway.api.cart import CART_TOKEN_HEADER, guest_token_of
from apps.gateway.api.cart_serializers import MergedCartOutputSerializer
from apps.gateway.composition import cart as cart_composition
from ecommerce.errors import RemoteServiceError

logger = logging.getLogger(__name__)

MERGE_CART_TOKEN_PARAMETER = OpenApiParameter(
    CART_TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False,
    description="A guest cart's token: on success its lines merge into the user's cart (quantities added, each "
    "line capped at the stock available, re-priced from the catalog) once, and the answer shows the cart. An "
    "unknown, expired or already merged token merges nothing.",
)


def guest_cart_merged_into(request: Request, *, user_id: int) -> dict[str, Any]:
    """``{"cart": ...}`` after merging the request's guest cart into the user's; ``{}`` without a token."""
    token = guest_token_of(request)
    if token is None:
        return {}
    try:
        cart = cart_composition.guest_cart_merge(guest_token=token, user_id=user_id)
    except RemoteServiceError:
        logger.warning("guest cart not merged at sign-in of user %s: a service did not answer", user_id)
        return {}
    return {"cart": MergedCartOutputSerializer(cart).data}
