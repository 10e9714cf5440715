"""Reads of the users context. Addresses are always looked up through their owner, so another user's address is
simply not found."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.users.models import Address, User
from ecommerce.contracts.users import USER_EMAILS_MAX_IDS
from ecommerce.errors import NotFound, ValidationFailed
from ecommerce.paging import paginate


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.", resource="user")
    return user


def user_emails(*, user_ids: list[int]) -> dict[int, str]:
    if len(user_ids) > USER_EMAILS_MAX_IDS:
        raise ValidationFailed(f"At most {USER_EMAILS_MAX_IDS} users at once.",
                               errors={"user_ids": [f"At most {USER_EMAILS_MAX_IDS} ids."]})
    return dict(User.objects.filter(pk__in=user_ids).values_list("pk", "email"))


def user_list(*, search: str = "", page: int = 1, page_size: int = 20) -> tuple[int, list[User]]:
    """Ordered by id; the total count and one page."""
    users: QuerySet[User] = User.objects.order_by("id")
    search = search.strip()
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return paginate(users, page=page, page_size=page_size)


def address_get(*, user_id: int, address_id: int, with_user: bool = False) -> Address:
    """``with_user``: the owner comes in the same query (``address.user``); a missing owner is named as such."""
    addresses = Address.objects.select_related("user") if with_user else Address.objects
    address = addresses.filter(pk=address_id, user_id=user_id).first()
    if address is None:
        if with_user:
            user_get(user_id=user_id)
        raise NotFound("No such address.")
    return address


def address_list(*, user_id: int, page: int = 1, page_size: int = 20) -> tuple[int, list[Address]]:
    """The owner's addresses by id; the total count and one page."""
    addresses = Address.objects.filter(user_id=user_id).order_by("id")
    return paginate(addresses, page=page, page_size=page_size)
