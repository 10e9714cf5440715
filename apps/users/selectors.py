"""Reads of the users context. Addresses are always looked up through their owner, so another user's address is
simply not found."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.users.models import Address, User
from ecommerce.errors import NotFound, ValidationFailed

MAX_PAGE_SIZE = 100


def _page_slice(*, page: int, page_size: int) -> slice:
    errors = {}
    if page < 1:
        errors["page"] = ["Must be 1 or more."]
    if page_size < 1:
        errors["page_size"] = ["Must be 1 or more."]
    if errors:
        raise ValidationFailed(errors=errors)
    page_size = min(page_size, MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return slice(start, start + page_size)


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def user_list(*, search: str = "", page: int = 1, page_size: int = 20) -> tuple[list[User], int]:
    users: QuerySet[User] = User.objects.order_by("id")
    search = search.strip()
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    window = _page_slice(page=page, page_size=page_size)
    return list(users[window]), users.count()


def address_get(*, user_id: int, address_id: int) -> Address:
    address = Address.objects.filter(pk=address_id, user_id=user_id).first()
    if address is None:
        raise NotFound("No such address.")
    return address


def address_list(*, user_id: int, page: int = 1, page_size: int = 20) -> tuple[list[Address], int]:
    addresses = Address.objects.filter(user_id=user_id).order_by("id")
    window = _page_slice(page=page, page_size=page_size)
    return list(addresses[window]), addresses.count()
