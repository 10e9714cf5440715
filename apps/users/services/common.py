"""Checks shared by the users services: the messages every field error uses, Django's password validators, the name
rules, the row locks that serialise changes to one user and to the set of admins, the rule that an active admin
always remains, and how a user's signed-in access is ended. Every breach is a typed error raised before anything is
written."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from apps.users import tokens
from apps.users.models import User
from ecommerce.errors import LastAdmin, NotFound
from ecommerce.roles import Role
from ecommerce.token_revocation import access_tokens_revoke

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


def locked_user_and_active_admins(user_id: int) -> tuple[User, set[int]]:
    """The user's row and the ids of every active admin, locked in one order (the admins by id, then the user), so
    that two admins demoting or deleting each other at the same moment are serialised instead of deadlocking."""
    admins = set(User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True)
                 .order_by("pk").values_list("pk", flat=True))
    return locked_user(user_id), admins


def ensure_an_admin_remains(user: User, active_admins: set[int], *, stays_active_admin: bool) -> None:
    """The shop always keeps an active admin: the last one cannot demote, deactivate or delete themselves."""
    if not stays_active_admin and active_admins == {user.pk}:
        raise LastAdmin("The shop must keep at least one active admin: make someone else an admin first.")


def access_end(user_id: int, *, refresh_tokens: bool) -> None:
    """Ends the user's signed-in access: every access token issued until now (within seconds, at the gateway) and,
    when asked, every refresh token. Call inside the transaction that makes the change: if the mark cannot be written
    the change is rolled back rather than kept unenforced. The mark is written again after the commit, so a token
    issued in between (while the change was not yet visible to a login) is refused too."""
    if refresh_tokens:
        tokens.blacklist_all_for_user(user_id)
    access_tokens_revoke(user_id=user_id)

    # A named function, not a partial: a robust callback that fails is logged by its __qualname__.
    def revoke_again() -> None:
        access_tokens_revoke(user_id=user_id)

    transaction.on_commit(revoke_again, robust=True)
