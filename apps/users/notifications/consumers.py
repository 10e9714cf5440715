"""Event handlers of the users context (named in ``ecommerce.events.subscriptions``).

Each validates the event's data against what it needs (a malformed event is dead-lettered at once: no retry could
fix it) and records, in the transaction that marks the event handled, what must be sent. Nothing here sends mail
or calls another context."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from apps.users.notifications import services
from ecommerce.events.handling import Event, MalformedEvent


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _OrderLineData(_Data):
    sku: str
    name: str
    quantity: int = Field(ge=1)
    unit_price: Decimal
    line_total: Decimal


class _OrderEventData(_Data):
    order_id: UUID
    number: str
    user_id: int
    total: Decimal
    subtotal: Decimal
    shipping_cost: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    currency: str
    lines: list[_OrderLineData]
    from_status: str = ""
    reason: str = ""


class _PaymentEventData(_OrderEventData):
    payment_id: UUID
    amount: Decimal
    failure_message: str = ""
    refund_reason: str = ""


class _StockLowData(_Data):
    product_id: int
    sku: str
    name: str = ""
    available: int
    threshold: int


DataT = TypeVar("DataT", bound=_Data)


def _parse(model: type[DataT], event: Event) -> DataT:
    try:
        return model.model_validate(event.data)
    except ValidationError as error:
        raise MalformedEvent(f"{event.type} {event.id} lacks what its consumer needs: {error}") from error


def _order_mail(event: Event, data: _OrderEventData, **payment: Any) -> services.OrderMail:
    return services.OrderMail(
        event_id=event.id, event_type=event.type, user_id=data.user_id, number=data.number,
        lines=[services.OrderLine(sku=line.sku, name=line.name, quantity=line.quantity,
                                  unit_price=line.unit_price, line_total=line.line_total) for line in data.lines],
        subtotal=data.subtotal, shipping_cost=data.shipping_cost, discount=data.discount, total=data.total,
        currency=data.currency, from_status=data.from_status, reason=data.reason, **payment,
    )


def order_email_prepare(event: Event) -> None:
    services.order_notification_create(mail=_order_mail(event, _parse(_OrderEventData, event)))


def payment_email_prepare(event: Event) -> None:
    """A payment's receipt, decline or refund, with the order's number, lines and total."""
    data = _parse(_PaymentEventData, event)
    services.order_notification_create(mail=_order_mail(
        event, data, payment_id=data.payment_id, amount=data.amount, failure_message=data.failure_message,
        refund_reason=data.refund_reason,
    ))


def stock_low_collect(event: Event) -> None:
    data = _parse(_StockLowData, event)
    services.stock_low_alert_record(alert=services.StockLow(
        event_id=event.id, occurred_at=event.occurred_at, product_id=data.product_id, sku=data.sku,
        name=data.name, available=data.available, threshold=data.threshold,
    ))
