"""Orders placed before checkout copied the customer's e-mail have none; staff then see only "user #id". This fills
them in from the users context, through its contract.

Rules guarded here: only an order without an e-mail is ever written (one copied at checkout is never replaced, and
running it again changes nothing); the users contract is asked once per batch and never inside a transaction; an
order whose user no longer exists keeps its blank e-mail and is counted, not retried forever within one run."""

from __future__ import annotations

from dataclasses import dataclass

from apps.orders.models import Order
from ecommerce.contracts.users import USER_EMAILS_MAX_IDS, users_service

BACKFILL_BATCH_SIZE = 500


@dataclass(frozen=True)
class BackfillCounts:
    examined: int  # orders that had no e-mail when their batch was read
    filled: int
    users_missing: int  # orders whose user the users context no longer knows


def orders_backfill_customer_emails(*, batch_size: int = BACKFILL_BATCH_SIZE) -> BackfillCounts:
    """Walks the orders without an e-mail in id order, one batch at a time."""
    batch_size = max(1, min(batch_size, USER_EMAILS_MAX_IDS))  # a batch's users fit one contract call
    examined = filled = users_missing = 0
    after = None
    while True:
        missing = Order.objects.filter(customer_email="").order_by("pk")
        if after is not None:
            missing = missing.filter(pk__gt=after)
        batch = list(missing.values_list("pk", "user_id")[:batch_size])
        if not batch:
            return BackfillCounts(examined=examined, filled=filled, users_missing=users_missing)
        after = batch[-1][0]
        examined += len(batch)
        emails = users_service.user_emails(user_ids=sorted({user_id for _, user_id in batch}))
        for user_id, email in emails.items():
            # Still blank: checkout or another run may have filled it since the batch was read.
            filled += Order.objects.filter(pk__in=[pk for pk, owner in batch if owner == user_id],
                                           customer_email="").update(customer_email=email)
        users_missing += sum(1 for _, user_id in batch if user_id not in emails)
