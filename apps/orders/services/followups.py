"""Follow-ups: what an order owes the other contexts once a change of it is committed. This is the one recovery
mechanism of the orders context.

Rules guarded here:
- The work is derived from the order's current status alone, so it can be redone at any time: the catalog's
  reservation is confirmed while the order is open and released once it is canceled; the cart claim the checkout
  made is completed; and every payment marked ``refund_due`` is refunded through its provider (``refunds``). Every
  call is idempotent by order id (a refund by the payment's own key), so doing the work twice is harmless.
- ``Order.followup_pending`` is set in the same transaction as the change and cleared only once the work for that
  very status succeeded. Whatever a failed call or a crash left undone is redone by ``orders_followups_resume``,
  which beat runs every minute; no per-order retry task exists besides it.

Why a canceled or expired order's stock is released here, right after the change, and not by a consumer of
``order.canceled`` (the catalog's consumer commits a shipped order's stock, ``apps.products.consumers``):
- The release is what the change is for. The cancel answer promises the stock is back on sale, and expiry exists to
  put unpaid stock back on sale; availability is what checkout sells against. As an event's effect it would wait
  for the broker: every outage would hold the stock of every canceled and expired order off sale until the broker
  returned (lost sales, where an outage must only delay background work), and a split deployment without a broker
  would never get it back.
- Once-only does not need an event id here. The release settles only reservations still ``reserved``, under their
  row locks, in one transaction: a redo by the sweep, a retried or concurrent call releases nothing twice. The key
  that must not count twice is the reservation (order, product), not a message about it.
- Its failures are covered by the durable flag and the sweep, whether or not a broker is there.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.orders.models import Order, Payment
from apps.orders.services.refunds import payments_refund_due
from apps.orders.state import RELEASES_STOCK
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import OrderStatus
from ecommerce.contracts.products import products_service

logger = logging.getLogger(__name__)

# Follow-up work younger than this is still being done by the request that made the change.
FOLLOWUP_GRACE_SECONDS = 30
SWEEP_BATCH_SIZE = 500


def order_followups_run(*, order_id: uuid.UUID, status: str, raise_errors: bool = False) -> bool:
    """Do what ``status`` (committed) owes the catalog and the cart, then clear the flag. Returns whether it all
    succeeded; a failure is logged (or raised with ``raise_errors``) and left to the sweep."""
    try:
        if OrderStatus(status) in RELEASES_STOCK:
            products_service.stock_release(order_id=order_id)
        else:
            # Any other order keeps its reservation (until its shipment commits it): confirmed, the stale-reservation
            # sweep never takes it back.
            products_service.stock_reservation_confirm(order_id=order_id)
        carts_service.cart_claim_complete(order_id=order_id)
        payments_refund_due(order_id=order_id)
        _followup_done(order_id, status=status)
    except Exception:
        # The change itself is committed and stands; the flag stays set, so the sweep redoes what is missing.
        if raise_errors:
            raise
        logger.exception("follow-up work of order %s (%s) failed; the sweep redoes it", order_id, status)
        return False
    return True


def _followup_done(order_id: uuid.UUID, *, status: str) -> None:
    """Only for the status the work was done for (a transition committed meanwhile owes its own work), and only if
    no refund was marked due meanwhile (a late webhook's), which that change's own follow-up, or the sweep, owes."""
    refund_still_due = Payment.objects.filter(order=OuterRef("pk"), refund_due=True)
    (Order.objects.filter(pk=order_id, status=status, followup_pending=True).exclude(Exists(refund_still_due))
     .update(followup_pending=False))


def orders_followups_resume(*, now: datetime | None = None) -> int:
    """Redo the follow-up work of orders whose process died (or whose calls failed) before it was done. Waiting
    ``FOLLOWUP_GRACE_SECONDS`` only keeps the sweep from racing requests finishing their own work right now.
    Returns how many orders were brought up to date."""
    now = now or timezone.now()
    owed = list(
        Order.objects.filter(followup_pending=True, updated_at__lt=now - timedelta(seconds=FOLLOWUP_GRACE_SECONDS))
        .order_by("updated_at").values_list("id", "status")[:SWEEP_BATCH_SIZE]
    )
    resumed = 0
    for order_id, status in owed:
        try:
            order_followups_run(order_id=order_id, status=status, raise_errors=True)
        except Exception:
            logger.exception("follow-up work of order %s failed again; the next sweep retries", order_id)
            continue
        resumed += 1
    return resumed
