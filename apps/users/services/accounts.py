"""Writes of accounts: registration, and the admin's user changes and deletion.

Rules guarded here: an e-mail address belongs to one account whatever its case; every new password passes Django's
validators; a new account is mailed its verification link once it is committed; a deactivation and a deletion kill
the user's refresh tokens, and they and a role change end the user's access tokens within seconds; the last active
admin cannot demote, deactivate or delete themselves. Every rule breach is a typed error (``ValidationFailed`` naming
the field, ``LastAdmin``), raised before anything is written. Sign-in and tokens are in ``sessions``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from apps.users.models import User, UserManager
from apps.users.services import common, verification
from ecommerce.errors import ValidationFailed
from ecommerce.roles import Role

DUPLICATE_EMAIL = "A user with this e-mail address already exists."


def user_register(*, email: str, password: str, name: str) -> User:
    email = UserManager.normalize_email(email)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except DjangoValidationError as error:
        errors["email"] = list(error.messages)
    if "email" not in errors and User.objects.filter(email=email).exists():
        errors["email"] = [DUPLICATE_EMAIL]
    if name_errors := common.name_errors(name):
        errors["name"] = name_errors
    if password_errors := common.password_errors(password, User(email=email, name=(name or "").strip())):
        errors["password"] = password_errors
    if errors:
        raise ValidationFailed(errors=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email, password, name=name.strip())
            # Mailed once the account exists for the worker to read; a lost mail is asked for again (resend).
            transaction.on_commit(verification.mail_after_commit(user.pk), robust=True)
            return user
    except (IntegrityError, DjangoValidationError) as error:
        # Another registration with the same address won the race since the check above.
        raise ValidationFailed(errors={"email": [DUPLICATE_EMAIL]}) from error


def user_update(*, user_id: int, changes: dict[str, Any]) -> User:
    """Applies only the given keys among ``name``, ``role`` and ``is_active``."""
    with transaction.atomic():
        user, active_admins = common.locked_user_and_active_admins(user_id)
        errors: dict[str, list[str]] = {}
        if "name" in changes and (name_errors := common.name_errors(changes["name"])):
            errors["name"] = name_errors
        if "role" in changes and changes["role"] not in set(Role):
            errors["role"] = [common.NOT_NULL if changes["role"] is None else "Not a valid role."]
        if "is_active" in changes and not isinstance(changes["is_active"], bool):
            errors["is_active"] = [common.NOT_NULL if changes["is_active"] is None else "Must be true or false."]
        if errors:
            raise ValidationFailed(errors=errors)
        role_after = Role(changes["role"]) if "role" in changes else user.role
        active_after = changes.get("is_active", user.is_active)
        common.ensure_an_admin_remains(user, active_admins,
                                       stays_active_admin=role_after == Role.ADMIN and active_after)

        role_changed = role_after != user.role
        updated: list[str] = []
        if "name" in changes:
            user.name = changes["name"].strip()
            updated.append("name")
        if "role" in changes:
            user.role = Role(changes["role"])
            updated.append("role")
        deactivated = False
        if "is_active" in changes:
            deactivated = user.is_active and not changes["is_active"]
            user.is_active = changes["is_active"]
            updated.append("is_active")
        if updated:
            user.save(update_fields=updated)
        if deactivated or role_changed:
            # A new role reaches the user's next token at once: the old ones must not keep the old role for 15 min.
            common.access_end(user.pk, refresh_tokens=deactivated)
        return user


def user_delete(*, user_id: int) -> None:
    with transaction.atomic():
        user, active_admins = common.locked_user_and_active_admins(user_id)
        common.ensure_an_admin_remains(user, active_admins, stays_active_admin=False)
        # Outstanding tokens outlive the user (their foreign key is nulled), so kill them while we know whose they are.
        common.access_end(user.pk, refresh_tokens=True)
        user.delete()
