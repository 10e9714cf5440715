"""Typed errors that contracts may raise.

They are part of every contract: each has a stable ``code`` that crosses the RPC wire and the public API unchanged,
so a caller re-raises exactly what the callee raised, whichever deployment mode is in use. Anything that is not a
``ContractError`` is an internal failure and never shows its details to a caller.
"""

from __future__ import annotations

from typing import Any, ClassVar

_REGISTRY: dict[str, type[ContractError]] = {}


class ContractError(Exception):
    code: ClassVar[str] = "contract_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request could not be completed"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.code] = cls

    def to_payload(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "extra": self.extra}

    @staticmethod
    def from_payload(payload: dict[str, Any]) -> ContractError:
        error_class = _REGISTRY.get(payload.get("code", ""), RemoteServiceError)
        return error_class(payload.get("detail"), **(payload.get("extra") or {}))


class ValidationFailed(ContractError):
    """Input broke a domain rule. ``errors`` maps field names to messages, as the public API shows them."""

    code = "validation_error"
    status = 400
    title = "Invalid input"

    def __init__(self, detail: str | None = None, *, errors: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(detail, errors=errors or {}, **extra)

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.extra["errors"]


class InvalidCredentials(ContractError):
    code = "invalid_credentials"
    status = 401
    title = "Invalid credentials"


class InvalidToken(ContractError):
    code = "invalid_token"
    status = 401
    title = "Token is invalid or expired"


class PermissionDenied(ContractError):
    code = "permission_denied"
    status = 403
    title = "Permission denied"


class EmailNotVerified(PermissionDenied):
    """The shop requires a verified e-mail address for this (``ECOMMERCE_REQUIRE_VERIFIED_EMAIL``)."""

    code = "email_not_verified"
    title = "E-mail address not verified"


class NotFound(ContractError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(ContractError):
    code = "conflict"
    status = 409
    title = "Conflict"


class LastAdmin(Conflict):
    """The change would leave the shop without an active admin (demoting, deactivating or deleting the last one)."""

    code = "last_admin"
    title = "The last admin must remain"


class InsufficientStock(ContractError):
    """``lines`` lists ``{"product_id", "requested", "available"}`` for every short line."""

    code = "insufficient_stock"
    status = 409
    title = "Insufficient stock"


class InvalidTransition(ContractError):
    code = "invalid_transition"
    status = 409
    title = "Invalid status transition"


class IdempotencyConflict(ContractError):
    code = "idempotency_conflict"
    status = 422
    title = "Idempotency key reused with a different request"


class IdempotencyInProgress(ContractError):
    code = "idempotency_in_progress"
    status = 409
    title = "A request with this idempotency key is still being processed"


class CartCheckoutInProgress(ContractError):
    """Another checkout has claimed this cart's lines and is still running: it either makes its order or gives the
    lines back to the cart."""

    code = "cart_checkout_in_progress"
    status = 409
    title = "This cart is being checked out by another request"


class TooManyOpenOrders(ContractError):
    """The user already has as many unpaid orders as one user may hold (``ECOMMERCE_MAX_OPEN_ORDERS_PER_USER``);
    ``limit`` says how many."""

    code = "too_many_open_orders"
    status = 409
    title = "Too many unpaid orders"


class PriceChanged(ContractError):
    """The cart's total is not the one the shopper saw (``expected_total``); ``lines`` lists
    ``{"product_id", "old_unit_price", "new_unit_price"}`` for every line whose price changed since it was added."""

    code = "price_changed"
    status = 409
    title = "Prices changed since you looked"


class VoucherInvalid(ContractError):
    """A voucher that cannot be used: ``reason`` says why (``unknown``, ``not_started``, ``expired``,
    ``below_minimum``, ``used_up``, ``customer_limit``) and ``errors`` carries the message under ``code``."""

    code = "voucher_invalid"
    status = 400
    title = "Voucher cannot be used"

    def __init__(self, detail: str | None = None, *, reason: str = "unknown", **extra: Any) -> None:
        extra.setdefault("errors", {"code": [detail or self.title]})
        super().__init__(detail, reason=reason, **extra)

    @property
    def reason(self) -> str:
        return self.extra["reason"]


class WebhookSignatureInvalid(ContractError):
    """A provider's webhook whose signature is missing, does not match any accepted secret, or is too old."""

    code = "invalid_signature"
    status = 400
    title = "Invalid webhook signature"


class PaymentNotReady(Conflict):
    """A verified provider event names a payment this shop has not finished recording yet. It is refused (not
    acknowledged), so the provider delivers it again and it applies once the payment is there."""

    code = "payment_not_ready"
    title = "The payment this event refers to is not recorded yet"


class ConfirmationNotSupported(Conflict):
    """Only the sandbox lets the shop play the shopper's step; a real provider confirms on its own page."""

    code = "confirmation_not_supported"
    title = "This payment is confirmed on the provider's page"


class RemoteServiceError(ContractError):
    """A service failed in a way it did not declare. Carries no internals."""

    code = "service_error"
    status = 503
    title = "Service unavailable"


class ServiceUnavailable(RemoteServiceError):
    code = "service_unavailable"
    status = 503
    title = "Service unavailable"


class ServiceTimeout(RemoteServiceError):
    code = "service_timeout"
    status = 504
    title = "Service did not answer in time"


class PaymentProviderUnavailable(RemoteServiceError):
    """The payment provider could not be reached, failed, or is not configured; nothing was charged."""

    code = "payment_provider_unavailable"
    status = 503
    title = "Payment provider unavailable"
