"""Vouchers: money off an order, spent by the order itself.

Rules guarded here:
- A voucher applies when it exists, its window is open (an empty side is open), the subtotal reaches its minimum,
  it has uses left in all and for this customer. Any failure is VoucherInvalid with the reason, never a silent zero.
- The discount is a percent of the subtotal or a fixed amount, rounded by ``ecommerce.money`` and never more than
  the subtotal: an order's total cannot go below its shipping.
- A use is taken inside the order's transaction by one conditional update (``uses < max_uses``), so however many
  checkouts race for the last use, exactly one gets it; the per-customer count is safe because one customer's order
  writes run one after the other (checkout's per-user lock). A canceled order gives its use back in the same
  transaction as the cancellation.
- Codes are matched case-insensitively: they are stored upper-case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.orders.models import Order, Voucher, VoucherKind, VoucherRedemption
from ecommerce.contracts.orders import VoucherChanges, VoucherInput
from ecommerce.errors import Conflict, NotFound, ValidationFailed, VoucherInvalid
from ecommerce.money import MAX_AMOUNT, ZERO, to_money

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
_HUNDRED = Decimal(100)


def voucher_code_normalize(code: str) -> str:
    return code.strip().upper()


def voucher_discount(voucher: Voucher, subtotal: Decimal) -> Decimal:
    if voucher.kind == VoucherKind.PERCENT:
        amount = to_money(subtotal * voucher.value / _HUNDRED)
    else:
        amount = to_money(voucher.value)
    return min(amount, to_money(subtotal))


def _find(code: str) -> Voucher:
    voucher = Voucher.objects.filter(code=voucher_code_normalize(code)).first()
    if voucher is None:
        raise VoucherInvalid(f"There is no voucher {code!r}.", reason="unknown")
    return voucher


def voucher_check(voucher: Voucher, *, user_id: int | None, subtotal: Decimal) -> Decimal:
    """The discount ``voucher`` gives on ``subtotal`` for this customer now, or VoucherInvalid saying why not."""
    now = timezone.now()
    if voucher.starts_at is not None and now < voucher.starts_at:
        raise VoucherInvalid(f"Voucher {voucher.code} is not valid yet.", reason="not_started")
    if voucher.ends_at is not None and now >= voucher.ends_at:
        raise VoucherInvalid(f"Voucher {voucher.code} has expired.", reason="expired")
    if voucher.min_subtotal is not None and subtotal < voucher.min_subtotal:
        raise VoucherInvalid(f"Voucher {voucher.code} needs a subtotal of at least {voucher.min_subtotal}.",
                             reason="below_minimum")
    if voucher.max_uses is not None and voucher.uses >= voucher.max_uses:
        raise VoucherInvalid(f"Voucher {voucher.code} has been used up.", reason="used_up")
    if user_id is not None and voucher.max_uses_per_customer is not None:
        used = VoucherRedemption.objects.filter(voucher=voucher, user_id=user_id).count()
        if used >= voucher.max_uses_per_customer:
            raise VoucherInvalid(f"You have already used voucher {voucher.code} as often as it allows.",
                                 reason="customer_limit")
    return voucher_discount(voucher, subtotal)


def voucher_quote(*, code: str, user_id: int | None, subtotal: Decimal) -> tuple[str, Decimal]:
    voucher = _find(code)
    return voucher.code, voucher_check(voucher, user_id=user_id, subtotal=subtotal)


def voucher_precheck(*, code: str, user_id: int, subtotal: Decimal) -> Decimal:
    """Before checkout takes anything: refuse a voucher that cannot apply at the cost of two reads."""
    return voucher_check(_find(code), user_id=user_id, subtotal=subtotal)


@dataclass(frozen=True)
class TakenUse:
    voucher: Voucher
    discount: Decimal


def voucher_take_locked(*, code: str, user_id: int, subtotal: Decimal) -> TakenUse:
    """Inside the order's transaction (with the user's order writes in turn): check the voucher again and take one
    use with a conditional update, so of racing checkouts only as many as there are uses left succeed."""
    voucher = _find(code)
    discount = voucher_check(voucher, user_id=user_id, subtotal=subtotal)
    taken = Voucher.objects.filter(pk=voucher.pk)
    if voucher.max_uses is not None:
        taken = taken.filter(uses__lt=F("max_uses"))
    if not taken.update(uses=F("uses") + 1):
        raise VoucherInvalid(f"Voucher {voucher.code} has been used up.", reason="used_up")
    return TakenUse(voucher=voucher, discount=discount)


def voucher_redemption_record(taken: TakenUse, *, order: Order) -> None:
    """In the same transaction, once the order row exists: which order holds the use (given back on cancel)."""
    VoucherRedemption.objects.create(voucher=taken.voucher, order=order, user_id=order.user_id,
                                     code=taken.voucher.code, discount=taken.discount)


def voucher_give_back_locked(order: Order) -> None:
    """Inside the cancellation's transaction: the order's use of a voucher, if any, is given back."""
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return
    Voucher.objects.filter(pk=redemption.voucher_id, uses__gt=0).update(uses=F("uses") - 1)
    redemption.delete()


# --- staff management -------------------------------------------------------------------------------------------

def voucher_values_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check a voucher's complete set of fields; ValidationFailed names every bad one."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    cleaned["code"] = voucher_code_normalize(values["code"])
    if not CODE_PATTERN.match(cleaned["code"]):
        errors["code"] = ["3 to 64 letters, digits, '-' or '_', starting with a letter or digit."]
    value = values["value"]
    if value <= ZERO or value > MAX_AMOUNT:
        errors["value"] = [f"Ensure this value is between 0.01 and {MAX_AMOUNT}."]
    elif values["kind"] == VoucherKind.PERCENT and value > _HUNDRED:
        errors["value"] = ["A percent voucher takes at most 100."]
    else:
        cleaned["value"] = to_money(value)
    minimum = values.get("min_subtotal")
    if minimum is not None and (minimum < ZERO or minimum > MAX_AMOUNT):
        errors["min_subtotal"] = [f"Ensure this value is between 0.00 and {MAX_AMOUNT}."]
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = ["The voucher must end after it starts."]
    for field in ("max_uses", "max_uses_per_customer"):
        limit = values.get(field)
        if limit is not None and not 1 <= limit <= 2**31 - 1:
            errors[field] = ["Ensure this value is between 1 and 2147483647 (leave it empty for no limit)."]
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _saved(voucher: Voucher) -> Voucher:
    try:
        with transaction.atomic():
            voucher.save()
    except IntegrityError as error:
        if Voucher.objects.filter(code=voucher.code).exclude(pk=voucher.pk).exists():
            raise ValidationFailed(errors={"code": ["A voucher with this code already exists."]}) from error
        raise
    return voucher


def voucher_create(*, voucher: VoucherInput) -> Voucher:
    cleaned = voucher_values_clean(voucher.model_dump())
    if Voucher.objects.filter(code=cleaned["code"]).exists():
        raise ValidationFailed(errors={"code": ["A voucher with this code already exists."]})
    return _saved(Voucher(**cleaned))


def voucher_update(*, voucher_id: int, changes: VoucherChanges) -> Voucher:
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().filter(pk=voucher_id).first()
        if voucher is None:
            raise NotFound("Voucher not found.")
        values = {field: getattr(voucher, field) for field in VoucherInput.model_fields}
        given = {field: getattr(changes, field) for field in changes.model_fields_set}
        for required in ("code", "kind", "value"):
            if required in given and given[required] is None:
                raise ValidationFailed(errors={required: ["This field may not be null."]})
        cleaned = voucher_values_clean({**values, **given})
        if cleaned["max_uses"] is not None and cleaned["max_uses"] < voucher.uses:
            raise ValidationFailed(errors={"max_uses": [f"It has already been used {voucher.uses} times."]})
        for field, value in cleaned.items():
            setattr(voucher, field, value)
        return _saved(voucher)


def voucher_delete(*, voucher_id: int) -> None:
    voucher = Voucher.objects.filter(pk=voucher_id).first()
    if voucher is None:
        raise NotFound("Voucher not found.")
    if VoucherRedemption.objects.filter(voucher=voucher).exists():
        raise Conflict("Orders have used this voucher; end its window instead of deleting it.")
    voucher.delete()
