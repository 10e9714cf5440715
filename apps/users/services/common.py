"""Checks shared by the users services: the messages every field error uses, Django's password validators, the name
rules, and the row lock that serialises changes to one user. Every breach is a ``ValidationFailed`` naming the field,
raised before anything is written."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.users.models import User
from ecommerce.errors import NotFound

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."


def max_length(model: type, field: str) -> int:
    return model._meta.get_field(field).max_length


def password_errors(password: str, user: User) -> list[str]:
    """Every new password passes Django's validators; their messages, or [] when it does."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        return list(error.messages)
    return []


def name_errors(name: str | None) -> list[str]:
    if name is None:
        return [NOT_NULL]
    if not name.strip():
        return [REQUIRED]
    limit = max_length(User, "name")
    if len(name.strip()) > limit:
        return [f"Ensure this field has no more than {limit} characters."]
    return []


def locked_user(user_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.", resource="user")
    return user
