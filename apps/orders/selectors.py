"""Order and payment reads. Every read that may return several orders prefetches their lines, so a page costs a
constant number of queries whatever its size."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.orders.models import Order, Payment, Voucher
from ecommerce.contracts.users import users_service
from ecommerce.errors import ContractError, NotFound
from ecommerce.paging import paginate


def _orders_with_lines() -> QuerySet[Order]:
    return Order.objects.prefetch_related("lines").order_by("-created_at", "-id")


def order_get(*, order_id: UUID, user_id: int | None = None) -> Order:
    """``user_id`` scopes the read to that owner: another user's order is not found, exactly like a missing one."""
    orders = _orders_with_lines().filter(pk=order_id)
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    order = orders.first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_list(*, user_id: int | None, status: str | None = None, page: int = 1,
               page_size: int = 20) -> tuple[int, list[Order]]:
    """Newest first; ``user_id=None`` lists every user's orders. Returns the total count and one page."""
    orders = _orders_with_lines()
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    if status:
        orders = orders.filter(status=status)
    return paginate(orders, page=page, page_size=page_size)



def payment_get(*, payment_id: UUID, user_id: int | None = None) -> Payment:
    """``user_id`` scopes the read to the order's owner: another user's payment is not found, like a missing one."""
    payments = Payment.objects.select_related("order").filter(pk=payment_id)
    if user_id is not None:
        payments = payments.filter(order__user_id=user_id)
    payment = payments.first()
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


def voucher_get(*, voucher_id: int) -> Voucher:
    voucher = Voucher.objects.filter(pk=voucher_id).first()
    if voucher is None:
        raise NotFound("Voucher not found.")
    return voucher


def voucher_list(*, page: int = 1, page_size: int = 20) -> tuple[int, list[Voucher]]:
    """By code; the total count and one page."""
    return paginate(Voucher.objects.order_by("code"), page=page, page_size=page_size)


def user_emails(*, user_ids: Iterable[int]) -> dict[int, str]:
    """The e-mails of users who acted on orders, for staff pages. The local user table answers first (the
    monolith's, or in a split deployment the shadow rows of staff who signed in to this role's admin); the users
    contract answers for the rest. A user it cannot name (deleted, or the users context unreachable) is left out."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    found = dict(get_user_model().objects.filter(pk__in=wanted).values_list("pk", "email"))
    for user_id in wanted - found.keys():
        try:
            found[user_id] = users_service.user_get(user_id=user_id).email
        except ContractError:
            continue
    return found
