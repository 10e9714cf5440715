"""Whose cart a call means: a user's (by id) or a guest's (by token), exactly one of the two.

Rules guarded here:
- A guest token is a bearer secret: only its SHA-256 is stored, so reading the table gives no usable token.
- A guest cart unchanged for ``ECOMMERCE_GUEST_CART_TTL_HOURS`` is expired: it answers NotFound at once, before the
  periodic purge deletes it, so an expired token never comes back to life.
- A user's cart is made on first use; a guest's only by ``guest_cart_create`` (an unknown token makes nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.carts.models import Cart
from ecommerce.errors import NotFound, ValidationFailed


def guest_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def guest_cart_ttl() -> timedelta:
    return timedelta(hours=settings.ECOMMERCE_GUEST_CART_TTL_HOURS)


def guest_carts_expired_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - guest_cart_ttl()


def guest_cart_not_found() -> NotFound:
    return NotFound("This guest cart does not exist or has expired; ask for a new one.", resource="cart")


@dataclass(frozen=True)
class CartOwner:
    user_id: int | None = None
    guest_token: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.guest_token is None):
            raise ValidationFailed("Name the cart by a user or by a guest token, not both or neither.",
                                   errors={"cart": ["Name exactly one owner."]})

    @property
    def is_guest(self) -> bool:
        return self.guest_token is not None

    def carts(self) -> QuerySet[Cart]:
        if self.guest_token is not None:
            return Cart.objects.filter(guest_token_hash=guest_token_hash(self.guest_token),
                                       updated_at__gte=guest_carts_expired_before())
        return Cart.objects.filter(user_id=self.user_id)

    def locked(self, *, create: bool) -> Cart | None:
        """The cart under its row lock (inside the caller's transaction). A user's cart is made when ``create``;
        a guest's is never made here: an unknown or expired token is NotFound."""
        if self.guest_token is not None:
            cart = self.carts().select_for_update().first()
            if cart is None:
                raise guest_cart_not_found()
            return cart
        if create:
            cart, _ = Cart.objects.select_for_update().get_or_create(user_id=self.user_id)
            return cart
        return self.carts().select_for_update().first()

    def get_or_create(self) -> Cart:
        if self.guest_token is not None:
            cart = self.carts().first()
            if cart is None:
                raise guest_cart_not_found()
            return cart
        # Concurrent first uses end with the same row: get_or_create retries the read when the unique user_id makes
        # a parallel insert fail.
        cart, _ = Cart.objects.get_or_create(user_id=self.user_id)
        return cart
