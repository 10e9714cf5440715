"""Writes of the users context.

Rules guarded here: an e-mail address belongs to one account whatever its case; every new password passes Django's
validators; a refresh token works once; a password change or reset, a deactivation and a deletion kill the user's
refresh tokens; a user has at most one default address and their first address is it. Every rule breach is a
``ValidationFailed`` naming the field, raised before anything is written."""

from __future__ import annotations

import logging
from typing import Any

import pycountry
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError

from apps.users import tokens
from apps.users.models import Address, User, UserManager
from ecommerce.errors import InvalidCredentials, InvalidToken, NotFound, ValidationFailed
from ecommerce.roles import Role

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "A user with this e-mail address already exists."
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
BAD_RESET_LINK = "The password reset link is invalid or has already been used."


def _max_length(model: type, field: str) -> int:
    return model._meta.get_field(field).max_length


def _password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        return list(error.messages)
    return []


def _name_errors(name: str | None) -> list[str]:
    if name is None:
        return [NOT_NULL]
    if not name.strip():
        return [REQUIRED]
    limit = _max_length(User, "name")
    if len(name.strip()) > limit:
        return [f"Ensure this field has no more than {limit} characters."]
    return []


def _locked_user(user_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user


# --- accounts ---------------------------------------------------------------------------------------------------

def user_register(*, email: str, password: str, name: str) -> User:
    email = UserManager.normalize_email(email)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except DjangoValidationError as error:
        errors["email"] = list(error.messages)
    if "email" not in errors and User.objects.filter(email=email).exists():
        errors["email"] = [DUPLICATE_EMAIL]
    if name_errors := _name_errors(name):
        errors["name"] = name_errors
    if password_errors := _password_errors(password, User(email=email, name=(name or "").strip())):
        errors["password"] = password_errors
    if errors:
        raise ValidationFailed(errors=errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, name=name.strip())
    except (IntegrityError, DjangoValidationError) as error:
        # Another registration with the same address won the race since the check above.
        raise ValidationFailed(errors={"email": [DUPLICATE_EMAIL]}) from error


def auth_login(*, email: str, password: str) -> tuple[User, tokens.IssuedTokens]:
    user = authenticate(None, email=email, password=password)
    if user is None:  # unknown e-mail, wrong password and inactive account look the same
        raise InvalidCredentials("No active account with these credentials.")
    update_last_login(None, user)
    return user, tokens.issue_tokens(user)


def auth_refresh(*, refresh: str) -> tokens.IssuedTokens:
    try:
        token = tokens.read_refresh(refresh)
    except TokenError as error:
        raise InvalidToken("The refresh token is invalid or expired.") from error
    with transaction.atomic():
        user = User.objects.filter(pk=tokens.token_user_id(token), is_active=True).first()
        if user is None:
            raise InvalidToken("The refresh token's user is gone or inactive.")
        if not tokens.consume(token):
            raise InvalidToken("The refresh token has already been used.")
        # A fresh read of the user means the new pair carries the role as it is now.
        return tokens.issue_tokens(user)


def auth_logout(*, user_id: int, refresh: str) -> None:
    try:
        token = tokens.read_refresh(refresh)
    except TokenError as error:
        raise InvalidToken("The refresh token is invalid or expired.") from error
    if tokens.token_user_id(token) != user_id:
        raise InvalidToken("The refresh token does not belong to this user.")
    with transaction.atomic():
        tokens.consume(token)  # already blacklisted is fine: logging out twice is harmless


def password_change(*, user_id: int, old_password: str, new_password: str) -> None:
    with transaction.atomic():
        user = _locked_user(user_id)
        if not user.check_password(old_password):
            raise ValidationFailed(errors={"old_password": ["The current password is not correct."]})
        if errors := _password_errors(new_password, user):
            raise ValidationFailed(errors={"new_password": errors})
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens.blacklist_all_for_user(user.pk)


def password_reset_request(*, email: str) -> None:
    """Sends a reset link if an active account has this address; says nothing either way (no enumeration)."""
    user = User.objects.filter(email=UserManager.normalize_email(email), is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.ECOMMERCE_FRONTEND_PASSWORD_RESET_URL.format(uid=uid, token=token)
    try:
        send_mail(
            subject="Reset your password",
            message=(
                f"Hello {user.name},\n\nSomeone asked to reset the password of your account. If it was you, "
                f"open this link to choose a new password:\n\n{link}\n\nIf it was not, ignore this e-mail.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except OSError:
        # The caller must get the same answer whether or not the account exists, so a mail failure is only logged.
        logger.exception("password reset e-mail to user %s could not be sent", user.pk)


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(errors={"token": [BAD_RESET_LINK]}) from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        # The token hashes the password, so it stops working as soon as it has been used once.
        if user is None or not default_token_generator.check_token(user, token):
            raise ValidationFailed(errors={"token": [BAD_RESET_LINK]})
        if errors := _password_errors(new_password, user):
            raise ValidationFailed(errors={"new_password": errors})
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens.blacklist_all_for_user(user.pk)


# --- users ------------------------------------------------------------------------------------------------------

def user_update(*, user_id: int, changes: dict[str, Any]) -> User:
    """Applies only the given keys among ``name``, ``role`` and ``is_active``."""
    with transaction.atomic():
        user = _locked_user(user_id)
        errors: dict[str, list[str]] = {}
        if "name" in changes and (name_errors := _name_errors(changes["name"])):
            errors["name"] = name_errors
        if "role" in changes and changes["role"] not in set(Role):
            errors["role"] = [NOT_NULL if changes["role"] is None else "Not a valid role."]
        if "is_active" in changes and not isinstance(changes["is_active"], bool):
            errors["is_active"] = [NOT_NULL if changes["is_active"] is None else "Must be true or false."]
        if errors:
            raise ValidationFailed(errors=errors)

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
        if deactivated:
            tokens.blacklist_all_for_user(user.pk)
        return user


def user_delete(*, user_id: int) -> None:
    with transaction.atomic():
        user = _locked_user(user_id)
        # Outstanding tokens outlive the user (their foreign key is nulled), so kill them while we know whose they are.
        tokens.blacklist_all_for_user(user.pk)
        user.delete()


# --- addresses --------------------------------------------------------------------------------------------------

ADDRESS_TEXT_FIELDS = ("full_name", "street", "city", "state", "zip_code", "country", "phone")
ADDRESS_REQUIRED_FIELDS = frozenset({"full_name", "street", "city", "zip_code", "country"})


def _country_code(value: str) -> str | None:
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        return None
    return code


def _clean_address_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validates and normalises the given address fields; raises ``ValidationFailed`` listing every bad one."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        if field == "is_default":
            if not isinstance(value, bool):
                errors[field] = [NOT_NULL if value is None else "Must be true or false."]
            else:
                cleaned[field] = value
            continue
        if field not in ADDRESS_TEXT_FIELDS:
            continue
        if value is None:
            errors[field] = [NOT_NULL]
            continue
        text = str(value).strip()
        limit = _max_length(Address, field)
        if not text and field in ADDRESS_REQUIRED_FIELDS:
            errors[field] = [REQUIRED]
        elif field == "country":
            code = _country_code(text)
            if code is None:
                errors[field] = [f"{text!r} is not an ISO 3166-1 alpha-2 country code."]
            else:
                cleaned[field] = code
        elif len(text) > limit:
            errors[field] = [f"Ensure this field has no more than {limit} characters."]
        else:
            cleaned[field] = text
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _lock_owner(user_id: int) -> None:
    # Serialises default-address changes of one user, so the one-default rule never meets a concurrent writer.
    if not User.objects.select_for_update().filter(pk=user_id).exists():
        raise NotFound("No such user.")


def _unset_other_defaults(*, user_id: int, keep_id: int | None) -> None:
    others = Address.objects.filter(user_id=user_id, is_default=True)
    if keep_id is not None:
        others = others.exclude(pk=keep_id)
    others.update(is_default=False)


def address_create(*, user_id: int, full_name: str, street: str, city: str, zip_code: str, country: str,
                   state: str = "", phone: str = "", is_default: bool = False) -> Address:
    values = _clean_address_values({
        "full_name": full_name, "street": street, "city": city, "state": state, "zip_code": zip_code,
        "country": country, "phone": phone, "is_default": is_default,
    })
    with transaction.atomic():
        _lock_owner(user_id)
        if not Address.objects.filter(user_id=user_id).exists():
            values["is_default"] = True
        if values["is_default"]:
            _unset_other_defaults(user_id=user_id, keep_id=None)
        return Address.objects.create(user_id=user_id, **values)


def address_update(*, user_id: int, address_id: int, changes: dict[str, Any]) -> Address:
    """Applies only the given keys; making this address the default unsets the previous one."""
    values = _clean_address_values(changes)
    with transaction.atomic():
        _lock_owner(user_id)
        address = Address.objects.filter(pk=address_id, user_id=user_id).first()
        if address is None:
            raise NotFound("No such address.")
        if values.get("is_default"):
            _unset_other_defaults(user_id=user_id, keep_id=address.pk)
        for field, value in values.items():
            setattr(address, field, value)
        if values:
            address.save(update_fields=[*values, "updated_at"])
        return address


def address_delete(*, user_id: int, address_id: int) -> None:
    with transaction.atomic():
        _lock_owner(user_id)
        address = Address.objects.filter(pk=address_id, user_id=user_id).first()
        if address is None:
            raise NotFound("No such address.")
        address.delete()
        if address.is_default:
            # Checkout needs a default to offer; the oldest remaining address takes over.
            successor = Address.objects.filter(user_id=user_id).order_by("id").first()
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
