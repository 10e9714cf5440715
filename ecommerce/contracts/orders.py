"""Orders context contract: checkout, order reads, cancellation and fulfilment transitions, the order's payments
(creation, reads, the sandbox's confirmation step and the providers' webhooks), and vouchers.

Vouchers belong to orders because a voucher is spent by an order: its use is taken in the order's own transaction
(so no contract call stands between the count and the order, and racing checkouts cannot overspend it) and given back
in the cancellation's. A cart only keeps the code; ``voucher_quote`` says what it takes off a subtotal now."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from ecommerce.contracts.common import DTO, Money, Page
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELED = "canceled"


class PaymentStatus(StrEnum):
    """requires_confirmation -> succeeded | failed; succeeded -> refunded."""

    REQUIRES_CONFIRMATION = "requires_confirmation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class WebhookOutcome(StrEnum):
    APPLIED = "applied"  # the event changed the payment (and maybe its order)
    DUPLICATE = "duplicate"  # this event id was received before: nothing changes twice
    IGNORED = "ignored"  # verified but says nothing the shop acts on (another type, or already reflected)
    REJECTED = "rejected"  # verified but contradicts the payment (amount or currency): kept for staff, no change


class OrderLineDTO(DTO):
    product_id: int
    sku: str
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class ShippingAddressDTO(DTO):
    full_name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    phone: str


# The longest carrier name and tracking number an order keeps (its columns, the API and the admin all say so).
CARRIER_MAX_LENGTH = 64
TRACKING_NUMBER_MAX_LENGTH = 100


class OrderDTO(DTO):
    id: UUID
    number: str
    user_id: int
    status: OrderStatus
    items: list[OrderLineDTO]
    subtotal: Money
    shipping_cost: Money
    discount: Money
    total: Money
    currency: str
    shipping_address: ShippingAddressDTO
    payment_status: str | None
    created_at: datetime
    updated_at: datetime
    # Named by staff when they ship the order; None until then (and for orders shipped without them).
    carrier: str | None = None
    tracking_number: str | None = None


class VoucherKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class VoucherDTO(DTO):
    id: int
    code: str
    kind: VoucherKind
    value: Money
    min_subtotal: Money | None
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    max_uses_per_customer: int | None
    uses: int


class VoucherInput(DTO):
    code: str
    kind: VoucherKind
    value: Money
    min_subtotal: Money | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None


class VoucherChanges(DTO):
    """A partial voucher update; only the fields that were set are applied (None clears an optional field)."""

    code: str | None = None
    kind: VoucherKind | None = None
    value: Money | None = None
    min_subtotal: Money | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None


class VoucherQuote(DTO):
    code: str
    discount: Money


class ShippingAddressInput(DTO):
    """An address given at checkout instead of a saved one's id; ``save`` also adds it to the user's addresses."""

    full_name: str
    street: str
    city: str
    state: str = ""
    zip_code: str
    country: str
    phone: str = ""
    save: bool = False


class CheckoutResult(DTO):
    order: OrderDTO
    replayed: bool


class PaymentDTO(DTO):
    id: UUID
    order_id: UUID
    user_id: int
    provider: str
    status: PaymentStatus
    amount: Money
    currency: str
    # What the provider's page needs to let the shopper pay; only ever shown to the order's owner.
    client_secret: str | None
    failure_message: str | None
    created_at: datetime
    updated_at: datetime


class PaymentCreateResult(DTO):
    payment: PaymentDTO
    replayed: bool


class WebhookReceipt(DTO):
    event_id: str
    outcome: WebhookOutcome


class OrdersService(Service):
    service_name = "orders"
    local_implementation = "apps.orders.rpc.LocalOrdersService"

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_checkout(
        self, *, user_id: int, address_id: int | None = None, idempotency_key: str, request_fingerprint: str,
        shipping_address: ShippingAddressInput | None = None, expected_total: Money | None = None,
    ) -> CheckoutResult:
        """Make an order from the user's cart; a cart is checked out at most once (another checkout of it still
        running: CartCheckoutInProgress; the user already holds the most unpaid orders allowed: TooManyOpenOrders).
        The address is a saved one (``address_id``) or given inline (``shipping_address``), exactly one. With
        ``expected_total``, a cart whose total (subtotal less discount) differs raises PriceChanged and nothing is
        reserved. The cart's voucher is redeemed with the order (VoucherInvalid if it no longer applies).
        Idempotent per (user, key): the same fingerprint replays the first answer verbatim (the order as first
        returned, or the same typed error), another fingerprint raises IdempotencyConflict, a call still running
        raises IdempotencyInProgress."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_list(
        self, *, user_id: int | None, status: OrderStatus | None = None, page: int = 1, page_size: int = 20
    ) -> Page[OrderDTO]:
        """Newest first. ``user_id=None`` lists every user's orders (staff only: the caller decides)."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_get(self, *, order_id: UUID, user_id: int | None) -> OrderDTO:
        """``user_id`` scopes the read to that owner (another user's order is NotFound); None for staff."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def order_cancel(self, *, order_id: UUID, user_id: int | None, actor_id: int) -> OrderDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def order_transition(self, *, order_id: UUID, status: OrderStatus, actor_id: int, carrier: str | None = None,
                         tracking_number: str | None = None) -> OrderDTO:
        """Staff moves an order along a legal transition, else InvalidTransition. Shipping may name the carrier and
        tracking number, both or neither (one alone, or either for another status, is ValidationFailed)."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def orders_expire_unpaid(self) -> int:
        """Cancel pending orders older than the TTL and release their stock; returns how many were canceled."""


    @rpc_method(idempotent=True)
    @abstractmethod
    def payment_create(
        self, *, order_id: UUID, user_id: int, idempotency_key: str, request_fingerprint: str
    ) -> PaymentCreateResult:
        """A payment of the order's total with the configured provider, for the order's owner (another user's order
        is NotFound); an order that is not pending raises InvalidTransition. Idempotent per (user, key) like
        checkout: the same fingerprint replays the first answer, another raises IdempotencyConflict. The provider
        being unreachable raises PaymentProviderUnavailable and the same key may simply be sent again."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def payment_get(self, *, payment_id: UUID, user_id: int | None) -> PaymentDTO:
        """``user_id`` scopes the read to the order's owner (another user's payment is NotFound); None for staff."""

    @rpc_method(idempotent=False)
    @abstractmethod
    def payment_confirm(self, *, payment_id: UUID, user_id: int, card_number: str) -> PaymentDTO:
        """The shopper's step on the sandbox provider's page (other providers: ConfirmationNotSupported). Changes
        nothing in the shop: the result reaches the payment only through the provider's signed webhook. A card the
        sandbox does not know is ValidationFailed; a payment or order no longer awaiting it, InvalidTransition."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def payment_webhook_receive(self, *, provider: str, body_base64: str, headers: dict[str, str]) -> WebhookReceipt:
        """A provider's webhook, its body exactly as received (base64, so no byte changes on the way) and its
        headers. Verified before anything is read (WebhookSignatureInvalid otherwise); an unknown provider is
        NotFound; an event about a payment not recorded yet is PaymentNotReady, so the provider sends it again.
        Each event id takes effect once, however often and however concurrently it arrives."""


    # --- vouchers ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def voucher_quote(self, *, code: str, user_id: int | None, subtotal: Money) -> VoucherQuote:
        """What the voucher takes off ``subtotal`` now, for this customer (None: a guest, whose per-customer limit
        is checked at checkout); VoucherInvalid naming why it cannot be used."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def voucher_list(self, *, page: int = 1, page_size: int = 20) -> Page[VoucherDTO]: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def voucher_get(self, *, voucher_id: int) -> VoucherDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def voucher_create(self, *, voucher: VoucherInput) -> VoucherDTO:
        """ValidationFailed naming the fields (a taken code, a percent over 100, a window that ends first)."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def voucher_update(self, *, voucher_id: int, changes: VoucherChanges) -> VoucherDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def voucher_delete(self, *, voucher_id: int) -> None:
        """A voucher orders have used is kept for their history: Conflict (end its window instead)."""


orders_service: OrdersService = ServiceDelegator(OrdersService)  # type: ignore[assignment]
