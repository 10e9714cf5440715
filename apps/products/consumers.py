"""Event handlers of the catalog (named in ``ecommerce.events.subscriptions``): the stock effect that belongs to an
event rather than to the change that caused it.

An order that shipped (``order.shipped``, and ``order.delivered`` for one whose shipment was never seen) takes its
reserved units off stock on hand for good. Nobody waits for this: what the shop sells against is the available
quantity (on hand minus reserved), which committing does not change, so it may lag behind the shipment by a broker
outage without any shopper or staff member noticing. It is applied once per event by the (consumer, event id) row
committed in the same transaction, and once per order whatever the events, because a settlement only touches
reservations still ``reserved`` under their row locks.

The other stock effects are not events' business and stay synchronous with their change: checkout's reservation
(it must refuse oversell before the order exists) and the release of a canceled or expired order's reservation
(the orders context's follow-ups, ``apps.orders.services.followups``, which say why).
"""

from __future__ import annotations

import uuid

from apps.products.services.stock import stock_commit
from ecommerce.events.handling import Event, MalformedEvent


def stock_commit_on_shipment(event: Event) -> None:
    try:
        order_id = uuid.UUID(str(event.data["order_id"]))
    except (KeyError, ValueError) as error:
        raise MalformedEvent(f"{event.type} {event.id} names no order: {error!r}") from error
    stock_commit(order_id=order_id)
