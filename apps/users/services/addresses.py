"""Writes of a user's addresses.

Rules guarded here: a user has at most one default address and their first address is it (deleting the default hands
it to the oldest remaining one); changes to one user's defaults are serialised by a lock on the user row; country is
an ISO 3166-1 alpha-2 code. Every rule breach is a ``ValidationFailed`` naming the field, raised before anything is
written; another user's address is ``NotFound``."""

from __future__ import annotations

from typing import Any

import pycountry
from django.db import transaction

from apps.users import selectors
from apps.users.models import Address, User
from apps.users.services import common
from ecommerce.errors import NotFound, ValidationFailed

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
                errors[field] = [common.NOT_NULL if value is None else "Must be true or false."]
            else:
                cleaned[field] = value
            continue
        if field not in ADDRESS_TEXT_FIELDS:
            continue
        if value is None:
            errors[field] = [common.NOT_NULL]
            continue
        text = str(value).strip()
        limit = common.max_length(Address, field)
        if not text and field in ADDRESS_REQUIRED_FIELDS:
            errors[field] = [common.REQUIRED]
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


def address_clean(*, full_name: str, street: str, city: str, zip_code: str, country: str, state: str = "",
                  phone: str = "", is_default: bool = False) -> dict[str, Any]:
    """An address checked and normalised exactly as ``address_create`` would, without saving it (an address given
    at checkout for that order only)."""
    return _clean_address_values({
        "full_name": full_name, "street": street, "city": city, "state": state, "zip_code": zip_code,
        "country": country, "phone": phone, "is_default": is_default,
    })


def checkout_recipient(*, user_id: int, address_id: int | None = None, address: dict[str, Any] | None = None,
                       save: bool = False) -> tuple[User, dict[str, str]]:
    """The user and the fields of the address an order ships to: the given ``address`` checked as ``address_create``
    checks it (and saved as theirs when ``save``), else their saved address ``address_id``."""
    if address is None and address_id is not None:
        # Every checkout asks this: the saved address and its owner come in one query.
        chosen = selectors.address_get(user_id=user_id, address_id=address_id, with_user=True)
        return chosen.user, {field: getattr(chosen, field) for field in ADDRESS_TEXT_FIELDS}
    user = selectors.user_get(user_id=user_id)
    if address is None:
        raise ValidationFailed(errors={"address_id": ["Give an address_id or an address."]})
    if not save:
        cleaned = address_clean(**address)
        return user, {field: cleaned[field] for field in ADDRESS_TEXT_FIELDS}
    chosen = address_create(user_id=user_id, **address)
    return user, {field: getattr(chosen, field) for field in ADDRESS_TEXT_FIELDS}


def _lock_owner(user_id: int) -> None:
    # Serialises default-address changes of one user, so the one-default rule never meets a concurrent writer.
    if not User.objects.select_for_update().filter(pk=user_id).exists():
        raise NotFound("No such user.", resource="user")


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
