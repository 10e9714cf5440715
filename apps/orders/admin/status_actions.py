"""What order staff may do to an order's status in the admin, and the pages that do it.

Rules guarded here:
- An action is offered only when the status machine (``apps.orders.state``) allows its transition from the order's
  status now; one forced anyway (an old page, a hand-made request, a race with another member of staff) is answered
  with the service's own message and changes nothing. Never a server error.
- Every change runs the orders services, exactly as the API's do (history, outbox event, stock, refunds), and is
  written to the admin's own history (``LogEntry``) with what was given: carrier and tracking number, reason.
- Nothing happens on a GET: each action asks first, on a page of its own (the reason for a cancellation is
  required), and acts on its POST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from apps.orders import services
from apps.orders.models import Order
from apps.orders.state import can_transition
from ecommerce.contracts.orders import CARRIER_MAX_LENGTH, TRACKING_NUMBER_MAX_LENGTH, OrderStatus

CARRIER_FIELD = forms.CharField(max_length=CARRIER_MAX_LENGTH, label="Carrier",
                                help_text="Who takes the parcel, e.g. UPS.")
TRACKING_FIELD = forms.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, label="Tracking number")


class ConfirmForm(forms.Form):
    """Nothing to fill in: the page itself is the confirmation."""


class ShipForm(forms.Form):
    carrier = CARRIER_FIELD
    tracking_number = TRACKING_FIELD


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=255, label="Reason", widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Kept in the order's history and shown to whoever reads it later.")


# What an action runs: (order, acting user's id, the form's cleaned data) -> the changed order.
Run = Callable[[Order, int, dict[str, Any]], Order]


@dataclass(frozen=True)
class StatusAction:
    slug: str
    to_status: OrderStatus
    label: str
    question: str
    form: type[forms.Form]
    run: Run
    logged_as: Callable[[dict[str, Any]], str]
    # Shown with the admin's "delete" colours: it cannot be undone and may move money.
    dangerous: bool = False


STATUS_ACTIONS: tuple[StatusAction, ...] = (
    StatusAction(
        slug="record-payment", to_status=OrderStatus.PAID, label="Record offline payment",
        question="Record that this order was paid outside the shop (bank transfer, cash)?",
        form=ConfirmForm,
        run=lambda order, actor, data: services.order_transition(
            order_id=order.id, status=OrderStatus.PAID, actor_id=actor, reason="paid offline, recorded by staff"),
        logged_as=lambda data: "Recorded an offline payment.",
    ),
    StatusAction(
        slug="ship", to_status=OrderStatus.SHIPPED, label="Ship",
        question="Ship this order? Its stock leaves the warehouse for good.",
        form=ShipForm,
        run=lambda order, actor, data: services.order_ship(
            order_id=order.id, actor_id=actor, carrier=data["carrier"], tracking_number=data["tracking_number"]),
        logged_as=lambda data: f"Shipped with {data['carrier']}, tracking number {data['tracking_number']}.",
    ),
    StatusAction(
        slug="deliver", to_status=OrderStatus.DELIVERED, label="Mark delivered",
        question="Record that this order reached the customer?",
        form=ConfirmForm,
        run=lambda order, actor, data: services.order_transition(
            order_id=order.id, status=OrderStatus.DELIVERED, actor_id=actor, reason="delivery recorded by staff"),
        logged_as=lambda data: "Marked delivered.",
    ),
    StatusAction(
        slug="cancel", to_status=OrderStatus.CANCELED, label="Cancel and refund",
        question="Cancel this order? Its stock goes back on sale and every payment it took is refunded.",
        form=CancelForm,
        run=lambda order, actor, data: services.order_cancel(
            order_id=order.id, user_id=None, actor_id=actor, reason=data["reason"]),
        logged_as=lambda data: f"Canceled and refunded: {data['reason']}",
        dangerous=True,
    ),
)
BY_SLUG = {action.slug: action for action in STATUS_ACTIONS}


def actions_allowed(order: Order) -> list[StatusAction]:
    """The actions the status machine allows for ``order`` as it is now."""
    return [action for action in STATUS_ACTIONS if can_transition(order.status, action.to_status)]
