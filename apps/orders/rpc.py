"""The in-process implementation of the orders contract: a thin adapter from contract calls to services and
selectors, turning models into DTOs. It holds no business rules."""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from uuid import UUID

from apps.orders import selectors, services
from apps.orders.dto import order_to_dto, payment_to_dto, voucher_to_dto
from apps.orders.services import vouchers
from ecommerce.contracts.common import Page
from ecommerce.contracts.orders import (
    CheckoutResult,
    OrderDTO,
    OrdersService,
    OrderStatus,
    PaymentCreateResult,
    PaymentDTO,
    ShippingAddressInput,
    VoucherChanges,
    VoucherDTO,
    VoucherInput,
    VoucherQuote,
    WebhookReceipt,
)
from ecommerce.errors import ValidationFailed, WebhookSignatureInvalid


class LocalOrdersService(OrdersService):
    def order_checkout(self, *, user_id: int, address_id: int | None = None, idempotency_key: str,
                       request_fingerprint: str, shipping_address: ShippingAddressInput | None = None,
                       expected_total: Decimal | None = None) -> CheckoutResult:
        return services.order_checkout(user_id=user_id, address_id=address_id, idempotency_key=idempotency_key,
                                       request_fingerprint=request_fingerprint, shipping_address=shipping_address,
                                       expected_total=expected_total)

    def order_list(self, *, user_id: int | None, status: OrderStatus | None = None, page: int = 1,
                   page_size: int = 20) -> Page[OrderDTO]:
        count, orders = selectors.order_list(user_id=user_id, status=status, page=page, page_size=page_size)
        return Page[OrderDTO](count=count, results=[order_to_dto(order) for order in orders])

    def order_get(self, *, order_id: UUID, user_id: int | None) -> OrderDTO:
        return order_to_dto(selectors.order_get(order_id=order_id, user_id=user_id))

    def order_cancel(self, *, order_id: UUID, user_id: int | None, actor_id: int) -> OrderDTO:
        return order_to_dto(services.order_cancel(order_id=order_id, user_id=user_id, actor_id=actor_id))

    def order_transition(self, *, order_id: UUID, status: OrderStatus, actor_id: int, carrier: str | None = None,
                         tracking_number: str | None = None) -> OrderDTO:
        if carrier is not None or tracking_number is not None:
            if status != OrderStatus.SHIPPED:
                raise ValidationFailed("Only a shipment names a carrier and a tracking number.", errors={
                    name: ["Only when the status is shipped."]
                    for name, value in (("carrier", carrier), ("tracking_number", tracking_number))
                    if value is not None})
            return order_to_dto(services.order_ship(order_id=order_id, actor_id=actor_id, carrier=carrier or "",
                                                    tracking_number=tracking_number or ""))
        if status == OrderStatus.CANCELED:
            return order_to_dto(services.order_cancel(order_id=order_id, user_id=None, actor_id=actor_id))
        return order_to_dto(services.order_transition(order_id=order_id, status=status, actor_id=actor_id,
                                                      reason="changed by staff"))

    def orders_expire_unpaid(self) -> int:
        return services.orders_expire_unpaid()

    def payment_create(self, *, order_id: UUID, user_id: int, idempotency_key: str,
                       request_fingerprint: str) -> PaymentCreateResult:
        return services.payment_create(order_id=order_id, user_id=user_id, idempotency_key=idempotency_key,
                                       request_fingerprint=request_fingerprint)

    def payment_get(self, *, payment_id: UUID, user_id: int | None) -> PaymentDTO:
        return payment_to_dto(selectors.payment_get(payment_id=payment_id, user_id=user_id))

    def payment_confirm(self, *, payment_id: UUID, user_id: int, card_number: str) -> PaymentDTO:
        return payment_to_dto(services.payment_confirm(payment_id=payment_id, user_id=user_id,
                                                       card_number=card_number))

    def payment_webhook_receive(self, *, provider: str, body_base64: str, headers: dict[str, str]) -> WebhookReceipt:
        try:
            body = base64.b64decode(body_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise WebhookSignatureInvalid("The body did not arrive intact.") from error
        return services.payment_webhook_receive(provider=provider, body=body,
                                                headers={name.lower(): value for name, value in headers.items()})

    def voucher_quote(self, *, code: str, user_id: int | None, subtotal: Decimal) -> VoucherQuote:
        normalized, discount = vouchers.voucher_quote(code=code, user_id=user_id, subtotal=subtotal)
        return VoucherQuote(code=normalized, discount=discount)

    def voucher_list(self, *, page: int = 1, page_size: int = 20) -> Page[VoucherDTO]:
        count, found = selectors.voucher_list(page=page, page_size=page_size)
        return Page[VoucherDTO](count=count, results=[voucher_to_dto(voucher) for voucher in found])

    def voucher_get(self, *, voucher_id: int) -> VoucherDTO:
        return voucher_to_dto(selectors.voucher_get(voucher_id=voucher_id))

    def voucher_create(self, *, voucher: VoucherInput) -> VoucherDTO:
        return voucher_to_dto(vouchers.voucher_create(voucher=voucher))

    def voucher_update(self, *, voucher_id: int, changes: VoucherChanges) -> VoucherDTO:
        return voucher_to_dto(vouchers.voucher_update(voucher_id=voucher_id, changes=changes))

    def voucher_delete(self, *, voucher_id: int) -> None:
        vouchers.voucher_delete(voucher_id=voucher_id)
